// A camera file that reaches into the files layer (forbidden).
#include "camera/fine.h"
#include "files/paths.h"
#include "transport/fetch.h"
