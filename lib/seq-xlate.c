#include <config.h>
#include "seq-xlate.h"
