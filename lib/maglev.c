#include <config.h>
#include "maglev.h"
