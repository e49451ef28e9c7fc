// Copyright 2026 The libprusaconnect Authors.
//
// Conversions between the public Status and absl::Status (used inside the
// library, where errors are absl values).
#ifndef PRUSACONNECT_UTIL_STATUS_INTERNAL_H_
#define PRUSACONNECT_UTIL_STATUS_INTERNAL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prusaconnect/status.h"

namespace prusaconnect::internal {

Status FromAbsl(const absl::Status& s);
absl::Status ToAbsl(const Status& s);

template <typename T>
StatusOr<T> FromAbsl(absl::StatusOr<T> s) {
  if (!s.ok()) return FromAbsl(s.status());
  return StatusOr<T>(*std::move(s));
}

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_UTIL_STATUS_INTERNAL_H_
