// Copyright 2026 The libprusaconnect Authors.
//
// libprusaconnect: put any 3D printer into Prusa Connect.
// The umbrella header: everything a host needs.
#ifndef PRUSACONNECT_PRUSACONNECT_H_
#define PRUSACONNECT_PRUSACONNECT_H_

#include "prusaconnect/camera.h"      // IWYU pragma: export
#include "prusaconnect/client.h"      // IWYU pragma: export
#include "prusaconnect/commands.h"    // IWYU pragma: export
#include "prusaconnect/conditions.h"  // IWYU pragma: export
#include "prusaconnect/const.h"       // IWYU pragma: export
#include "prusaconnect/json.h"        // IWYU pragma: export
#include "prusaconnect/log.h"         // IWYU pragma: export
#include "prusaconnect/models.h"      // IWYU pragma: export
#include "prusaconnect/network.h"     // IWYU pragma: export
#include "prusaconnect/printer.h"     // IWYU pragma: export
#include "prusaconnect/status.h"      // IWYU pragma: export
#include "prusaconnect/transfer.h"    // IWYU pragma: export
#include "prusaconnect/util.h"        // IWYU pragma: export

#endif  // PRUSACONNECT_PRUSACONNECT_H_
