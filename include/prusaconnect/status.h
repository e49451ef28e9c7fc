// Copyright 2026 The libprusaconnect Authors.
//
// Status and StatusOr<T>: the error values of the public API.
//
// Fallible calls return a Status (or a StatusOr<T> carrying a value on
// success) instead of throwing. The library uses the same types inside. The
// codes mirror the canonical gRPC/Abseil codes (a host using absl::Status can
// convert by value) and map onto Python exceptions in the bindings (see
// bindings/python).
//
// Thread safety: Status and StatusOr are plain values; distinct objects may be
// used from different threads, a single object needs external synchronisation
// for concurrent mutation.
#ifndef PRUSACONNECT_STATUS_H_
#define PRUSACONNECT_STATUS_H_

#include <cassert>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>

#include "prusaconnect/export.h"

namespace prusaconnect {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Returns the canonical name of `code`, e.g. "INVALID_ARGUMENT".
PRUSACONNECT_API const char* StatusCodeName(StatusCode code);

class PRUSACONNECT_API Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // A message a person can act on; empty for OK.
  const std::string& message() const { return message_; }
  // "OK" or "<CODE_NAME>: <message>".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }
  friend bool operator!=(const Status& a, const Status& b) { return !(a == b); }
  // Writes ToString(), e.g. for test failure messages.
  friend PRUSACONNECT_API std::ostream& operator<<(std::ostream& os, const Status& s);

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

PRUSACONNECT_API Status InvalidArgumentError(std::string message);
PRUSACONNECT_API Status NotFoundError(std::string message);
PRUSACONNECT_API Status FailedPreconditionError(std::string message);
PRUSACONNECT_API Status UnavailableError(std::string message);
PRUSACONNECT_API Status InternalError(std::string message);
PRUSACONNECT_API Status AlreadyExistsError(std::string message);
PRUSACONNECT_API Status PermissionDeniedError(std::string message);
PRUSACONNECT_API Status DeadlineExceededError(std::string message);
PRUSACONNECT_API Status ResourceExhaustedError(std::string message);
PRUSACONNECT_API Status UnauthenticatedError(std::string message);
PRUSACONNECT_API Status UnimplementedError(std::string message);
PRUSACONNECT_API Status OutOfRangeError(std::string message);
PRUSACONNECT_API Status DataLossError(std::string message);

// Either a value of type T or a non-OK Status explaining why there is none.
template <typename T>
class StatusOr {
 public:
  // REQUIRES: !status.ok().
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "OK status given to StatusOr");
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T& value() & {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_STATUS_H_
