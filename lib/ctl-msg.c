#include <config.h>
#include "ctl-msg.h"
