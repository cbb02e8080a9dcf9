/* The Python half of the bridge (glue.py.inc), compiled in as one string. */
static const char devserve_glue_source[] =
#include "glue.py.inc"
    ;
