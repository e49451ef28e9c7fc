// The files layer does not link libcurl.
#include <curl/curl.h>
#include "util/posix.h"
