#include <config.h>
#include "ofctrl.h"
