/* The header target has no code of its own; SwiftPM needs one source file. */
#include "devserve.h"
