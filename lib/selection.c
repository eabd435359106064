#include <config.h>
#include "selection.h"
