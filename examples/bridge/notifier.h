// Copyright 2026 The libprusaconnect Authors.
//
// Notifier: tells people what their printers do (docs/notifications.md)
// through Telegram's Bot API (sendMessage, sendPhoto) and generic webhooks
// (a JSON POST, optionally signed with HMAC-SHA256).
//
// It listens to the StatusHub (state, job, progress and host events) and
// never blocks it: each event becomes queued messages (at most kQueue; the
// oldest go first when full, counted as dropped). One thread of its own
// sends them with libcurl, retries a failed send with backoff (1 s doubling,
// 5 attempts), honours Telegram's 429 `retry_after` and a webhook's
// Retry-After, and gives up at once on other 4xx. A failing channel is
// logged once per failure streak and again when it works; bot tokens,
// webhook URLs and secrets are never logged.
//
// Photos: the newest camera image the hub has; for the final photo of a job
// and the periodic ones the printer's cameras are asked for a fresh one
// first (waiting up to 10 s for it).
#ifndef PRUSACONNECT_EXAMPLES_BRIDGE_NOTIFIER_H_
#define PRUSACONNECT_EXAMPLES_BRIDGE_NOTIFIER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bridge_config.h"
#include "status_hub.h"

namespace bridge {

class Notifier {
 public:
  static constexpr size_t kQueue = 500;
  static constexpr int kAttempts = 5;

  // `trigger_photo(printer)` asks the printer's cameras for a picture now.
  Notifier(StatusHub* hub, std::vector<NotifyEntry> channels,
           std::function<void(const std::string&)> trigger_photo);
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Start();
  // Sends nothing more; waits for a send in progress (its timeout at most).
  void Stop();
  // A new set of channels (reload); queued messages of removed ones go,
  // those of kept ones (same name) stay.
  void SetChannels(std::vector<NotifyEntry> channels);
  // The hub's listener.
  void OnEvent(const HubEvent& e);
  // Prometheus lines (HELP/TYPE included).
  std::string Metrics() const;

  // What a message says (exposed for tests).
  struct Message {
    std::string event;  // job_started, job_finished, job_stopped, job_failed, state,
                        // progress, error, photo, printer_lost, printer_back
    std::string printer;
    std::string text;
    prusaconnect::Json data;   // the webhook's payload without "image"
    bool photo = false;        // attach the printer's newest image
    bool fresh_photo = false;  // ask its cameras for a new one first
  };

 private:
  using Clock = std::chrono::steady_clock;
  struct Item {
    size_t channel;
    Message message;
    int attempts = 0;
    Clock::time_point due;
  };
  struct Counters {
    uint64_t sent = 0, failed = 0, dropped = 0;
    bool failing = false;
  };
  struct Printing {  // per channel and printer, while a job runs
    int last_progress_step = 0;
    Clock::time_point last_photo;
    std::string file;
  };

  void Run();
  void EnqueueLocked(size_t channel, Message m);
  bool Wants(const NotifyEntry& c, const std::string& printer) const;
  // One attempt: 0 sent; >0 retry after that many ms; -1 give up.
  int64_t Send(const NotifyEntry& c, const Message& m, std::string* why);
  std::string Photo(const Message& m);
  void PeriodicPhotosLocked();

  StatusHub* hub_;
  std::function<void(const std::string&)> trigger_photo_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<NotifyEntry> channels_;
  std::vector<Counters> counters_;
  std::map<std::string, Counters> retired_;  // counters of channels removed on reload
  std::deque<Item> queue_;
  std::map<std::pair<size_t, std::string>, Printing> printing_;
  bool stopping_ = false;
  std::atomic<bool> abort_{false};  // aborts a send in progress (Stop)
  std::thread thread_;
};

// "sha256=<hex>" of HMAC-SHA256(secret, body).
std::string WebhookSignature(const std::string& secret, const std::string& body);

}  // namespace bridge

#endif  // PRUSACONNECT_EXAMPLES_BRIDGE_NOTIFIER_H_
