// Copyright 2026 The libprusaconnect Authors.
//
// The outbound side of one printer's protocol: events waiting to be sent in
// order, the newest telemetry sample, the one request on the wire, and the
// backoff between failed requests. Single-threaded (its owner locks), no
// clock of its own (times are arguments), and the backoff's jitter comes
// from an injected random source, so tests know every delay exactly.
#ifndef PRUSACONNECT_PROTOCOL_OUTBOX_H_
#define PRUSACONNECT_PROTOCOL_OUTBOX_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "prusaconnect/models.h"

namespace prusaconnect::internal {

// 64 random bits per call.
using RandomSource = std::function<uint64_t()>;
// xorshift64* seeded with `seed` (not 0): the default jitter source.
RandomSource XorShiftRandom(uint64_t seed);

// Delays after failed requests: min_ms doubling with each failure up to
// max_ms, then jittered uniformly within [delay/2, delay].
class Backoff {
 public:
  Backoff(int64_t min_ms, int64_t max_ms, RandomSource random);
  // A request failed at `now_us`: the next may go at not_before_us().
  void Failed(int64_t now_us);
  // An answer arrived (or the connection changed): no delay.
  void Reset();
  int64_t not_before_us() const { return not_before_us_; }
  int failures() const { return failures_; }

 private:
  int64_t min_ms_;
  int64_t max_ms_;
  RandomSource random_;
  int failures_ = 0;
  int64_t not_before_us_ = 0;
};

class Outbox {
 public:
  struct Entry {
    uint64_t seq = 0;  // order of queueing, shared by events and telemetry
    std::string timestamp;
    std::string body;
    int64_t queued_us = 0;
  };
  // The item Take() put on the wire.
  struct Item {
    RequestKind kind = RequestKind::kTelemetry;
    const Entry* entry = nullptr;  // valid until the next call
  };

  // At most `capacity` (at least 1) events wait; the oldest goes first.
  explicit Outbox(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  // Queues an event. When the buffer is full the oldest event that is not
  // on the wire is dropped and returned (for the log).
  std::optional<Entry> PushEvent(std::string timestamp, std::string body, int64_t now_us);
  // Queues telemetry, replacing a sample not yet sent (true when it did;
  // the replaced sample keeps its place in the order).
  bool PushTelemetry(std::string timestamp, std::string body, int64_t now_us);

  bool has_traffic() const { return !events_.empty() || telemetry_.has_value(); }
  size_t events() const { return events_.size(); }

  // Puts the next item on the wire: the oldest event, or the telemetry
  // sample when it was queued first. Nothing queued: nullopt.
  std::optional<Item> Take();
  // The item on the wire is done with: an event is removed (and its body
  // returned), a telemetry sample forgotten.
  std::optional<std::string> Done(RequestKind kind, uint64_t seq);
  // The item on the wire must go again later: an event stays first in line,
  // a telemetry sample comes back unless a newer one was queued meanwhile.
  void Retry(RequestKind kind);

 private:
  size_t capacity_;
  std::deque<Entry> events_;
  std::optional<Entry> telemetry_;
  std::optional<Entry> in_flight_telemetry_;
  uint64_t in_flight_seq_ = 0;  // the event on the wire, 0 = none
  uint64_t next_seq_ = 1;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_OUTBOX_H_
