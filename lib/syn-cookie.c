#include <config.h>
#include "syn-cookie.h"
