// Copyright 2026 The libprusaconnect Authors.
//
// Fault injection: the rules the control API installs (fail, delay, drop,
// hang requests by path and method) and how a request meets them.
#include "emulator/emulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "emulator/emulator_impl.h"
#include "emulator/str_util.h"
#include "emulator/text_util.h"

namespace prusaconnect::emulator {

// ---- Faults ----

std::optional<FaultInfo> Emulator::Impl::MatchFault(const HttpRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (faults_.empty()) return std::nullopt;
  absl::Time now = absl::Now();
  for (size_t i = 0; i < faults_.size();) {
    FaultEntry& f = faults_[i];
    const FaultRule& r = f.info.rule;
    if (r.kind == FaultKind::kRefuse) {
      ++i;
      continue;
    }
    if (now >= f.end || (r.count.has_value() && f.info.hits >= *r.count)) {
      faults_.erase(faults_.begin() + static_cast<ptrdiff_t>(i));
      Notify();
      continue;
    }
    bool match = now >= f.start;
    match = match && (r.path_prefix.empty() || StartsWith(request.path, r.path_prefix));
    match = match && (r.method.empty() || EqualsIgnoreCase(request.method, r.method));
    match = match && (r.token.empty() || request.headers.Get("Token") == r.token);
    match = match && (r.fingerprint.empty() || request.headers.Get("Fingerprint") == r.fingerprint);
    if (r.kind == FaultKind::kMalformed) {
      match = match && request.path == "/p/telemetry" && request.method == "POST";
    }
    if (!match) {
      ++i;
      continue;
    }
    ++f.info.hits;
    FaultInfo hit = f.info;
    if (r.count.has_value() && f.info.hits >= *r.count) {
      faults_.erase(faults_.begin() + static_cast<ptrdiff_t>(i));
    }
    Notify();
    return hit;
  }
  return std::nullopt;
}

std::vector<int64_t> Emulator::Impl::AddFaults(std::vector<FaultRule> rules) {
  std::vector<int64_t> ids;
  struct Refuse {
    int64_t id;
    absl::Duration start_after;
    absl::Duration duration;
  };
  std::vector<Refuse> refuses;
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Time now = absl::Now();
    for (FaultRule& rule : rules) {
      FaultEntry entry;
      entry.info.id = next_fault_id_++;
      entry.start = now + std::max(rule.start_after, absl::ZeroDuration());
      entry.end = rule.duration == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                            : entry.start + rule.duration;
      if (rule.kind == FaultKind::kRefuse) {
        refuses.push_back({entry.info.id, rule.start_after, rule.duration});
        entry.refusing = rule.start_after <= absl::ZeroDuration();
      }
      entry.info.rule = std::move(rule);
      ids.push_back(entry.info.id);
      faults_.push_back(std::move(entry));
    }
    Notify();
  }
  for (const Refuse& r : refuses) ScheduleRefuse(r.id, r.start_after, r.duration);
  return ids;
}

void Emulator::Impl::ScheduleRefuse(int64_t id, absl::Duration start_after,
                                    absl::Duration duration) {
  if (server_ == nullptr) return;
  if (start_after <= absl::ZeroDuration()) {
    SyncListener();
  } else {
    server_->RunAfter(start_after, [this, id] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (FaultEntry& f : faults_) {
          if (f.info.id == id) f.refusing = true;
        }
      }
      SyncListenerInLoop();
    });
  }
  if (duration != absl::InfiniteDuration()) {
    server_->RunAfter(std::max(start_after, absl::ZeroDuration()) + duration,
                      [this, id] { RemoveFault(id); });
  }
}

void Emulator::Impl::SyncListener() {
  if (server_ == nullptr) return;
  server_->RunInLoop([this] { SyncListenerInLoop(); });
}

void Emulator::Impl::SyncListenerInLoop() {
  bool closed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed = manual_pause_ || std::any_of(faults_.begin(), faults_.end(), [](const FaultEntry& f) {
               return f.info.rule.kind == FaultKind::kRefuse && f.refusing;
             });
  }
  if (closed && server_->listening()) {
    server_->PauseListening(/*close_idle=*/true);
  } else if (!closed && !server_->listening()) {
    Status status = server_->ResumeListening();
    if (!status.ok()) {
      std::fprintf(stderr, "prusaconnect-emulator: cannot reopen listener: %s\n",
                   status.ToString().c_str());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Notify();
}

bool Emulator::Impl::RemoveFault(int64_t id) {
  bool found = false;
  bool refuse = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(faults_.begin(), faults_.end(),
                           [id](const FaultEntry& f) { return f.info.id == id; });
    if (it != faults_.end()) {
      found = true;
      refuse = it->info.rule.kind == FaultKind::kRefuse;
      faults_.erase(it);
      Notify();
    }
  }
  if (refuse) SyncListener();
  return found;
}

void Emulator::Impl::ClearFaults() {
  bool refuse;
  {
    std::lock_guard<std::mutex> lock(mu_);
    refuse = std::any_of(faults_.begin(), faults_.end(), [](const FaultEntry& f) {
      return f.info.rule.kind == FaultKind::kRefuse;
    });
    faults_.clear();
    Notify();
  }
  if (refuse) SyncListener();
}

std::vector<FaultInfo> Emulator::Impl::Faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FaultInfo> out;
  for (const FaultEntry& f : faults_) out.push_back(f.info);
  return out;
}

void Emulator::Impl::PauseListening() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    manual_pause_ = true;
  }
  SyncListener();
}

Status Emulator::Impl::ResumeListening() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    manual_pause_ = false;
  }
  SyncListener();
  if (server_ != nullptr && !server_->listening()) {
    return UnavailableError("listener still closed (refuse fault active or bind failed)");
  }
  return Status();
}

bool Emulator::Impl::listening() const { return server_ != nullptr && server_->listening(); }

}  // namespace prusaconnect::emulator
