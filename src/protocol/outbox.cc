// Copyright 2026 The libprusaconnect Authors.
#include "protocol/outbox.h"

#include <algorithm>
#include <utility>

namespace prusaconnect::internal {

RandomSource XorShiftRandom(uint64_t seed) {
  uint64_t state = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
  return [state]() mutable {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  };
}

Backoff::Backoff(int64_t min_ms, int64_t max_ms, RandomSource random)
    : min_ms_(min_ms), max_ms_(max_ms), random_(std::move(random)) {}

void Backoff::Failed(int64_t now_us) {
  ++failures_;
  int64_t delay_ms = min_ms_;
  for (int i = 1; i < failures_ && delay_ms < max_ms_; ++i) delay_ms *= 2;
  delay_ms = std::min(delay_ms, max_ms_);
  int64_t half = delay_ms / 2;
  uint64_t r = random_();
  int64_t jittered = half + static_cast<int64_t>(r % static_cast<uint64_t>(delay_ms - half + 1));
  not_before_us_ = now_us + jittered * 1000;
}

void Backoff::Reset() {
  failures_ = 0;
  not_before_us_ = 0;
}

std::optional<Outbox::Entry> Outbox::PushEvent(std::string timestamp, std::string body,
                                               int64_t now_us) {
  std::optional<Entry> dropped;
  if (events_.size() >= capacity_) {
    auto victim = events_.begin();
    if (in_flight_seq_ != 0 && victim->seq == in_flight_seq_ && events_.size() > 1) ++victim;
    dropped = std::move(*victim);
    events_.erase(victim);
  }
  events_.push_back(Entry{next_seq_++, std::move(timestamp), std::move(body), now_us});
  return dropped;
}

bool Outbox::PushTelemetry(std::string timestamp, std::string body, int64_t now_us) {
  if (telemetry_) {
    telemetry_->body = std::move(body);
    telemetry_->timestamp = std::move(timestamp);
    return true;
  }
  telemetry_ = Entry{next_seq_++, std::move(timestamp), std::move(body), now_us};
  return false;
}

std::optional<Outbox::Item> Outbox::Take() {
  bool event_first = !events_.empty() && (!telemetry_ || events_.front().seq < telemetry_->seq);
  if (event_first) {
    in_flight_seq_ = events_.front().seq;
    return Item{RequestKind::kEvent, &events_.front()};
  }
  if (!telemetry_) return std::nullopt;
  in_flight_telemetry_ = std::move(telemetry_);
  telemetry_.reset();
  return Item{RequestKind::kTelemetry, &*in_flight_telemetry_};
}

std::optional<std::string> Outbox::Done(RequestKind kind, uint64_t seq) {
  if (kind == RequestKind::kTelemetry) {
    in_flight_telemetry_.reset();
    return std::nullopt;
  }
  in_flight_seq_ = 0;
  auto it =
      std::find_if(events_.begin(), events_.end(), [&](const Entry& e) { return e.seq == seq; });
  if (it == events_.end()) return std::nullopt;  // dropped by an overflow meanwhile
  std::string body = std::move(it->body);
  events_.erase(it);
  return body;
}

void Outbox::Retry(RequestKind kind) {
  if (kind == RequestKind::kTelemetry) {
    if (!telemetry_) telemetry_ = std::move(in_flight_telemetry_);
    in_flight_telemetry_.reset();
    return;
  }
  if (kind == RequestKind::kEvent) in_flight_seq_ = 0;
}

}  // namespace prusaconnect::internal
