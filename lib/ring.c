#include <config.h>
#include "ring.h"
