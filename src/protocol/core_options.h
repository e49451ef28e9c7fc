// Copyright 2026 The libprusaconnect Authors.
//
// CoreOptions: what the protocol core (core.h) needs of a printer's
// options. The facade fills it from the public PrinterOptions
// (prusaconnect/printer.h), which the core does not see.
#ifndef PRUSACONNECT_PROTOCOL_CORE_OPTIONS_H_
#define PRUSACONNECT_PROTOCOL_CORE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "prusaconnect/const.h"

namespace prusaconnect::internal {

struct CoreOptions {
  // SEND_INFO carries an `mmu` object.
  bool mmu_supported = true;
  // Events waiting to be sent; the oldest is dropped when full. At least 1.
  size_t event_buffer_size = 1000;
  // Retry delays after a failed request: doubling from min to max, jittered.
  int64_t backoff_min_ms = 100;
  int64_t backoff_max_ms = 60000;
  // Timeout of every request to the printer API.
  int64_t request_timeout_ms = int64_t{CONNECTION_TIMEOUT} * 1000;
  // Registration polling interval and lifetime of a code.
  int64_t register_poll_interval_ms = 1000;
  int64_t register_timeout_ms = int64_t{CODE_TIMEOUT} * 1000;
  // TLS of every request.
  bool verify_tls = true;
  std::string ca_file;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_CORE_OPTIONS_H_
