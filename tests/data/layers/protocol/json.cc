// Only util may use RapidJSON.
#include "prusaconnect/json.h"
#include "rapidjson/document.h"
