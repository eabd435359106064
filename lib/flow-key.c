#include <config.h>
#include "flow-key.h"
