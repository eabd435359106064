#include <config.h>
#include "tcp-seg.h"
