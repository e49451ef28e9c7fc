// Copyright 2026 The libprusaconnect Authors.
//
// SaturatingCast: a number a host sent (a double: OctoPrint's progress,
// Moonraker's durations) as an integer. The plain cast is undefined when
// the value does not fit, and a peer's JSON may say 1e300 (the fuzzers
// found it): NaN becomes 0, anything else is truncated and clamped to the
// integer type's range.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_SATURATE_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_SATURATE_H_

#include <cmath>
#include <limits>

namespace octoprint_adapter {

template <typename Int>
Int SaturatingCast(double v) {
  if (std::isnan(v)) return 0;
  if (v >= static_cast<double>(std::numeric_limits<Int>::max())) {
    return std::numeric_limits<Int>::max();
  }
  if (v <= static_cast<double>(std::numeric_limits<Int>::min())) {
    return std::numeric_limits<Int>::min();
  }
  return static_cast<Int>(v);
}

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_SATURATE_H_
