// Copyright 2026 The libprusaconnect Authors.
//
// fault_soak: many printers (real Printer objects on one shared Network,
// libcurl over loopback) against the in-process Connect emulator while the
// emulator injects faults on a schedule: 5xx bursts, refused connections,
// timeouts (hung requests), dropped and reset connections, slow answers and
// malformed commands.
//
//   fault_soak [--printers N] [--seconds S] [--warmup S] [--fault-period S]
//              [--rss-limit PCT] [--no-rss-check] [--seed N] [--drain S]
//
// Every printer sends telemetry and one numbered event (data.soak_seq) per
// second, and is sent commands one at a time (a new one once the previous
// one has ended, now and then the previous id again, as Connect re-sends a
// command it has no answer for). The handler returns FINISHED with
// data.soak_cmd = the id. After S seconds the faults stop, the printers
// drain, and the tool asserts:
//   * every numbered event reached the emulator exactly once and in order
//     per printer (no gap, no duplicate; checked while running);
//   * every queued command was ACCEPTED once and ended with exactly one
//     FINISHED carrying its marker, after its ACCEPTED; a re-sent id never
//     ran the handler again (no handler ever ran twice for one command id);
//   * every malformed command was REJECTED;
//   * no event was dropped by a printer (buffer overflow, refused);
//   * the process RSS at the end is within --rss-limit percent (default 5)
//     of the RSS right after warm-up (memory does not grow under faults).
// Crashes end the process (and fail the ctest).
//
// Faults only ever replace the answer of a request the emulator did NOT
// process (no process_first), and slow answers stay well inside the request
// timeout, so the library's retry must deliver each event exactly once: a
// duplicate or a gap is a library bug.
//
// Output: a human summary and one JSON line (starting with '{'). Exit 0 when
// every check holds, 1 on a violation, 2 on bad arguments or setup failure.

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "emulator/emulator.h"
#include "prusaconnect/prusaconnect.h"

namespace {

using prusaconnect::Command;
using prusaconnect::CommandRequest;
using prusaconnect::CommandResult;
using prusaconnect::Event;
using prusaconnect::EventFields;
using prusaconnect::Json;
using prusaconnect::Network;
using prusaconnect::Printer;
using prusaconnect::PrinterOptions;
using prusaconnect::PrinterType;
using prusaconnect::Source;
using prusaconnect::StatusOr;
using prusaconnect::Telemetry;
namespace emu = prusaconnect::emulator;

int64_t MonoMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

long RssKb() {  // NOLINT(runtime/int)
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kb = -1;  // NOLINT(runtime/int)
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kb = std::strtol(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

struct Options {
  int printers = 100;
  double seconds = 600;
  double warmup = 60;
  double fault_period = 2.0;
  double rss_limit_pct = 5.0;
  bool check_rss = true;
  uint64_t seed = 1;
  double drain = 90;
};

[[noreturn]] void Usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "fault_soak: %s\n\n", error);
  std::fprintf(stderr,
               "usage: fault_soak [--printers N] [--seconds S] [--warmup S] [--fault-period S]\n"
               "                  [--rss-limit PCT] [--no-rss-check] [--seed N] [--drain S]\n");
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--no-rss-check") {
      o.check_rss = false;
      continue;
    }
    if (arg == "--help" || arg == "-h") Usage(nullptr);
    std::string value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage("missing value");
    }
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != 0 || v < 0) Usage("bad number");
    if (arg == "--printers") {
      o.printers = static_cast<int>(v);
    } else if (arg == "--seconds") {
      o.seconds = v;
    } else if (arg == "--warmup") {
      o.warmup = v;
    } else if (arg == "--fault-period") {
      o.fault_period = v;
    } else if (arg == "--rss-limit") {
      o.rss_limit_pct = v;
    } else if (arg == "--seed") {
      o.seed = static_cast<uint64_t>(v);
    } else if (arg == "--drain") {
      o.drain = v;
    } else {
      Usage(("unknown option " + arg).c_str());
    }
  }
  if (o.printers < 1 || o.seconds <= o.warmup || o.fault_period <= 0) Usage("bad values");
  return o;
}

// What one printer has sent and what the emulator has received from it.
struct PrinterState {
  std::string fp;
  std::unique_ptr<Printer> printer;

  // Driver side (host thread only).
  int64_t events_generated = 0;  // soak_seq of the last numbered event
  int64_t next_tick_ms = 0;
  int64_t next_command_ms = 0;
  int commands_kind = 0;

  // Shared between the host thread, the handler threads and the checker.
  std::mutex mu;
  // The command in progress: queued and not yet known to have ended.
  int64_t outstanding_id = 0;
  bool outstanding_dup = false;  // a re-sent id (no handler run expected)
  bool dup_done = false;         // the checker saw its re-answer
  int64_t last_new_id = 0;       // the last id queued as a new command
  std::string last_name;         // and its command name
  int64_t recent[8] = {};        // the last ids queued as new commands
  int recent_pos = 0;
  bool Recent(int64_t id) const {
    return id != 0 && std::find(std::begin(recent), std::end(recent), id) != std::end(recent);
  }
  int64_t runs_of_last = 0;  // handler runs for last_new_id
  int64_t commands_queued = 0;
  int64_t dups_queued = 0;
  int64_t handler_runs = 0;

  // Checker side (checker thread only, plus the final check).
  uint64_t since_seq = 0;  // emulator event seq already read
  int64_t events_seen = 0;
  int64_t last_soak_seq = 0;
  int64_t accepted_id = 0;         // last id with an ACCEPTED (ids only grow)
  int64_t finished_id = 0;         // last id with a marked FINISHED
  int64_t malformed_rejected = 0;  // REJECTED for ids never queued
};

class Soak {
 public:
  explicit Soak(Options o) : o_(o), rng_(o.seed) {}

  int Run();

 private:
  void Violation(const std::string& what) {
    std::lock_guard<std::mutex> l(violations_mu_);
    ++violation_count_;
    if (violations_.size() < 50) violations_.push_back(what);
    std::fprintf(stderr, "fault_soak: VIOLATION: %s\n", what.c_str());
  }
  StatusOr<CommandResult> Handle(PrinterState* p, const CommandRequest& r);
  void HostTick(int64_t now_ms, bool generate);
  void CommandStep(PrinterState* p, int64_t now_ms, bool generate);
  void CheckEvents(PrinterState* p);
  void FaultTick(int64_t now_ms);
  void RetireFaults(bool all);
  void CountFaultHits();
  bool AllCommandsDone();

  Options o_;
  std::mt19937_64 rng_;
  std::unique_ptr<emu::Emulator> emulator_;
  std::shared_ptr<Network> network_;
  std::vector<std::unique_ptr<PrinterState>> printers_;

  std::mutex violations_mu_;
  std::vector<std::string> violations_;
  int64_t violation_count_ = 0;

  // Faults: (id, kind, retire at ms).
  struct ActiveFault {
    int64_t id;
    emu::FaultKind kind;
    int64_t until_ms;
  };
  std::vector<ActiveFault> active_;
  std::map<std::string, int64_t> fault_hits_;     // by kind name
  std::map<std::string, int64_t> fault_windows_;  // rules added, by kind name
  size_t next_fault_ = 0;
  int64_t next_fault_ms_ = 0;
  int64_t soak_events_seen_ = 0;
  uint64_t log_seq_ = 0;
  int64_t log_missed_ = 0;
};

// Faults that hit, from the emulator's request log (an expired rule is
// forgotten with its hit count). Refused connections never reach the log:
// those are counted as windows.
void Soak::CountFaultHits() {
  std::vector<emu::RequestLogEntry> log = emulator_->RequestLog(log_seq_, 1 << 20);
  for (const emu::RequestLogEntry& e : log) {
    if (log_seq_ != 0 && e.seq > log_seq_ + 1)
      log_missed_ += static_cast<int64_t>(e.seq - log_seq_ - 1);
    log_seq_ = std::max(log_seq_, e.seq);
    if (!e.fault.empty()) ++fault_hits_[e.fault];
  }
}

StatusOr<CommandResult> Soak::Handle(PrinterState* p, const CommandRequest& r) {
  {
    std::lock_guard<std::mutex> l(p->mu);
    ++p->handler_runs;
    if (r.command_id != p->last_new_id) {
      Violation(p->fp + ": handler ran for command " + std::to_string(r.command_id) +
                " which is not the last queued new command " + std::to_string(p->last_new_id));
    } else if (++p->runs_of_last > 1) {
      Violation(p->fp + ": handler ran " + std::to_string(p->runs_of_last) + " times for command " +
                std::to_string(r.command_id));
    }
  }
  CommandResult res;
  res.event = Event::FINISHED;
  res.data = Json::MakeObject({{"soak_cmd", Json(r.command_id)}});
  return res;
}

void Soak::CheckEvents(PrinterState* p) {
  std::vector<emu::RecordedEvent> events = emulator_->GetEvents(p->fp, p->since_seq);
  for (const emu::RecordedEvent& e : events) {
    p->since_seq = std::max(p->since_seq, e.seq);
    ++p->events_seen;
    StatusOr<Json> body = Json::Parse(e.json);
    if (!body.ok()) {
      Violation(p->fp + ": event body is not JSON: " + e.json);
      continue;
    }
    const Json* data = body->find("data");
    const Json* seq = data ? data->find("soak_seq") : nullptr;
    const Json* marker = data ? data->find("soak_cmd") : nullptr;
    if (seq != nullptr) {
      int64_t s = seq->as_int();
      if (s != p->last_soak_seq + 1) {
        Violation(p->fp + ": numbered event " + std::to_string(s) + " arrived after " +
                  std::to_string(p->last_soak_seq) +
                  (s <= p->last_soak_seq ? " (duplicate)" : " (gap)"));
      }
      p->last_soak_seq = std::max(p->last_soak_seq, s);
      ++soak_events_seen_;
      continue;
    }
    if (!e.command_id) {
      Violation(p->fp + ": unexpected event " + e.json);
      continue;
    }
    int64_t id = *e.command_id;
    std::lock_guard<std::mutex> l(p->mu);
    bool ours = p->Recent(id);
    if (e.event == "ACCEPTED") {
      if (!ours) {
        Violation(p->fp + ": ACCEPTED for command " + std::to_string(id) + " never queued");
      } else if (id <= p->accepted_id) {
        Violation(p->fp + ": second ACCEPTED for command " + std::to_string(id));
      }
      p->accepted_id = std::max(p->accepted_id, id);
    } else if (e.event == "FINISHED" && marker != nullptr) {
      if (marker->as_int() != id) Violation(p->fp + ": FINISHED marker does not match its id");
      if (id != p->accepted_id) {
        Violation(p->fp + ": FINISHED for command " + std::to_string(id) +
                  " not right after its ACCEPTED (last ACCEPTED " + std::to_string(p->accepted_id) +
                  ")");
      }
      if (id <= p->finished_id) {
        Violation(p->fp + ": second FINISHED for command " + std::to_string(id));
      }
      p->finished_id = std::max(p->finished_id, id);
    } else if (e.event == "FINISHED") {
      // The answer to a re-sent id: the command's last state again.
      if (p->outstanding_dup && id == p->outstanding_id && !p->dup_done) {
        p->dup_done = true;
      } else {
        Violation(p->fp + ": unmarked FINISHED for command " + std::to_string(id) +
                  " that was not re-sent");
      }
    } else if (e.event == "REJECTED" && !ours) {
      ++p->malformed_rejected;
    } else {
      Violation(p->fp + ": unexpected " + e.event + " for command " + std::to_string(id) + ": " +
                e.json);
    }
  }
}

// Telemetry and one numbered event per printer per second (staggered over
// the second), and the next command when the previous one has ended.
void Soak::HostTick(int64_t now_ms, bool generate) {
  for (auto& ps : printers_) {
    PrinterState* p = ps.get();
    if (now_ms >= p->next_tick_ms) {
      p->next_tick_ms = std::max(p->next_tick_ms + 1000, now_ms);
      Telemetry t;
      t.temp_nozzle = 215.0;
      t.temp_bed = 60.0;
      p->printer->telemetry(t);
      if (generate) {
        ++p->events_generated;
        p->printer->event_cb(Event::STATE_CHANGED, Source::FIRMWARE, EventFields{},
                             Json::MakeObject({{"soak_seq", Json(p->events_generated)}}));
      }
    }
    CommandStep(p, now_ms, generate);
  }
}

void Soak::CommandStep(PrinterState* p, int64_t now_ms, bool generate) {
  static const char* const kNames[] = {"PAUSE_PRINT", "RESUME_PRINT", "SEND_JOB_INFO", "GCODE"};
  std::lock_guard<std::mutex> l(p->mu);
  if (p->outstanding_id != 0) {
    bool done = p->outstanding_dup ? p->dup_done : p->finished_id >= p->outstanding_id;
    if (!done) return;
    p->outstanding_id = 0;
    p->outstanding_dup = false;
    p->dup_done = false;
    p->next_command_ms = now_ms + 1000 + static_cast<int64_t>(rng_() % 5000);
  }
  if (!generate || now_ms < p->next_command_ms) return;
  bool dup = p->last_new_id != 0 && rng_() % 5 == 0;
  if (dup) {
    // Connect re-sends the id it saw no answer for: same id, same command.
    emu::Command c = emu::Command::Json(p->last_name, "", "", p->last_new_id);
    prusaconnect::StatusOr<int64_t> id = emulator_->QueueCommand(p->fp, c);
    if (!id.ok()) {
      Violation("QueueCommand failed: " + std::string(id.status().message()));
      return;
    }
    p->outstanding_id = p->last_new_id;
    p->outstanding_dup = true;
    ++p->dups_queued;
    return;
  }
  const char* name = kNames[p->commands_kind++ % 4];
  emu::Command c =
      std::strcmp(name, "GCODE") == 0 ? emu::Command::Gcode("M117 soak") : emu::Command::Json(name);
  prusaconnect::StatusOr<int64_t> id = emulator_->QueueCommand(p->fp, c);
  if (!id.ok()) {
    Violation("QueueCommand failed: " + std::string(id.status().message()));
    return;
  }
  // Set while holding p->mu: the handler (which takes it too) cannot run
  // for this id before these are recorded.
  p->last_new_id = *id;
  p->last_name = name;
  p->runs_of_last = 0;
  p->recent[p->recent_pos++ % 8] = *id;
  p->outstanding_id = *id;
  ++p->commands_queued;
}

// The fault rotation: a new fault window every --fault-period seconds.
void Soak::FaultTick(int64_t now_ms) {
  RetireFaults(false);
  if (now_ms < next_fault_ms_) return;
  next_fault_ms_ = now_ms + static_cast<int64_t>(o_.fault_period * 1000);
  static const emu::FaultKind kRotation[] = {
      emu::FaultKind::kStatus,    emu::FaultKind::kRefuse, emu::FaultKind::kHang,
      emu::FaultKind::kDrop,      emu::FaultKind::kSlow,   emu::FaultKind::kReset,
      emu::FaultKind::kMalformed,
  };
  emu::FaultRule r;
  r.kind = kRotation[next_fault_++ % (sizeof(kRotation) / sizeof(kRotation[0]))];
  r.duration = absl::Milliseconds(1000);
  switch (r.kind) {
    case emu::FaultKind::kStatus: {
      static const int kStatuses[] = {500, 502, 503, 504};
      r.status = kStatuses[rng_() % 4];
      r.body = "soak: injected";
      break;  // a burst: every request for a second
    }
    case emu::FaultKind::kRefuse:
      break;  // the listener is closed for a second
    case emu::FaultKind::kHang:
      r.count = 10;  // each one a request timeout on the printer's side
      break;
    case emu::FaultKind::kDrop:
    case emu::FaultKind::kReset:
      r.count = 40;
      break;
    case emu::FaultKind::kSlow:
      r.count = 100;
      r.delay = absl::Milliseconds(200 + static_cast<int64_t>(rng_() % 800));
      break;
    case emu::FaultKind::kMalformed:
      r.count = 20;
      break;
  }
  int64_t id = emulator_->AddFault(r);
  ++fault_windows_[std::string(emu::FaultKindName(r.kind))];
  // Retired well after its window (hung requests hold their hit).
  active_.push_back({id, r.kind, now_ms + 1500});
}

void Soak::RetireFaults(bool all) {
  int64_t now = MonoMs();
  bool any = false;
  for (const ActiveFault& a : active_) any = any || all || now >= a.until_ms;
  if (!any) return;
  std::vector<ActiveFault> keep;
  for (const ActiveFault& a : active_) {
    if (!all && now < a.until_ms) {
      keep.push_back(a);
      continue;
    }
    emulator_->RemoveFault(a.id);
  }
  active_ = std::move(keep);
}

int Soak::Run() {
  prusaconnect::SetLogLevel(prusaconnect::LogLevel::kError);
  std::atomic<int64_t> log_errors{0};
  prusaconnect::SetLogSink([&log_errors](prusaconnect::LogLevel, const std::string&,
                                         const std::string&) { ++log_errors; });

  emu::EmulatorOptions eo;
  // Bounded so that the emulator's own memory is flat after warm-up: the
  // checker reads every printer's events twice a second.
  eo.max_events_per_printer = 48;
  // The request log tells which faults hit (read twice a second).
  eo.request_log_capacity = 4096;
  eo.telemetry_history_per_printer = 1;
  eo.delivered_history_per_printer = 4;
  eo.max_protocol_errors = 64;
  emulator_ = std::make_unique<emu::Emulator>(eo);
  prusaconnect::Status started = emulator_->Start();
  if (!started.ok()) {
    std::fprintf(stderr, "fault_soak: emulator: %s\n", started.ToString().c_str());
    return 2;
  }
  network_ = std::make_shared<Network>();

  const int64_t t0 = MonoMs();
  for (int i = 0; i < o_.printers; ++i) {
    auto p = std::make_unique<PrinterState>();
    std::string sn = "SOAK" + std::to_string(100000 + i);
    p->fp = prusaconnect::FingerprintFromSerial(sn);
    prusaconnect::StatusOr<std::string> token = emulator_->PreregisterPrinter(p->fp, sn, "1.3.1");
    if (!token.ok()) {
      std::fprintf(stderr, "fault_soak: preregister: %s\n", token.status().ToString().c_str());
      return 2;
    }
    PrinterOptions po;
    po.network = network_;
    po.background_handlers = true;
    po.request_timeout_ms = 5000;  // slow answers (<= 1 s) stay well inside
    po.backoff_min_ms = 100;
    po.backoff_max_ms = 2000;
    p->printer = std::make_unique<Printer>(PrinterType::I3MK3S, sn, p->fp, po);
    p->printer->set_software("fault_soak");
    p->printer->set_connection(emulator_->url(), *token);
    PrinterState* raw = p.get();
    for (Command c :
         {Command::PAUSE_PRINT, Command::RESUME_PRINT, Command::SEND_JOB_INFO, Command::GCODE}) {
      p->printer->set_handler(c, [this, raw](const CommandRequest& r) { return Handle(raw, r); });
    }
    p->next_tick_ms = t0 + i * 1000 / o_.printers;
    p->next_command_ms = t0 + 1000 + static_cast<int64_t>(rng_() % 3000);
    p->printer->start();
    printers_.push_back(std::move(p));
  }

  const int64_t warm_ms = t0 + static_cast<int64_t>(o_.warmup * 1000);
  const int64_t end_ms = t0 + static_cast<int64_t>(o_.seconds * 1000);
  long rss_start = RssKb();                          // NOLINT(runtime/int)
  long rss_base = -1, rss_end = -1, rss_max = 0;     // NOLINT(runtime/int)
  std::vector<std::pair<double, long>> rss_samples;  // NOLINT(runtime/int)
  rss_samples.reserve(4096);
  int64_t next_check = t0, next_rss = t0, next_report = t0 + 30000;
  for (int64_t now = MonoMs(); now < end_ms; now = MonoMs()) {
    HostTick(now, true);
    FaultTick(now);
    if (now >= next_check) {
      next_check = now + 500;
      for (auto& p : printers_) CheckEvents(p.get());
      CountFaultHits();
    }
    if (now >= next_rss) {
      next_rss = now + 5000;
      long rss = RssKb();  // NOLINT(runtime/int)
      rss_samples.emplace_back((now - t0) / 1000.0, rss);
      if (now >= warm_ms) {
        if (rss_base < 0) rss_base = rss;
        rss_max = std::max(rss_max, rss);
      }
    }
    if (now >= next_report) {
      next_report = now + 30000;
      std::fprintf(stderr, "fault_soak: t=%.0fs events checked=%" PRId64 " rss=%ld kB\n",
                   (now - t0) / 1000.0, soak_events_seen_, RssKb());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  rss_end = RssKb();
  if (rss_base < 0) rss_base = rss_end;
  rss_max = std::max(rss_max, rss_end);

  // Drain: no more faults, events or commands; telemetry goes on (commands
  // still queued arrive on its answers) until everything is accounted for.
  RetireFaults(true);
  emulator_->ClearFaults();
  if (!emulator_->listening()) (void)emulator_->ResumeListening();
  const int64_t drain_end = MonoMs() + static_cast<int64_t>(o_.drain * 1000);
  bool drained = false;
  while (!drained && MonoMs() < drain_end) {
    int64_t now = MonoMs();
    HostTick(now, false);
    for (auto& p : printers_) CheckEvents(p.get());
    CountFaultHits();
    drained = true;
    for (auto& p : printers_) {
      std::lock_guard<std::mutex> l(p->mu);
      if (p->last_soak_seq != p->events_generated || p->outstanding_id != 0) drained = false;
    }
    int64_t malformed = 0;
    for (auto& p : printers_) malformed += p->malformed_rejected;
    if (malformed != fault_hits_["malformed"]) drained = false;
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double drain_s = (MonoMs() - (drain_end - static_cast<int64_t>(o_.drain * 1000))) / 1000.0;

  // ---- final checks ----
  int64_t generated = 0, queued = 0, dups = 0, runs = 0, malformed = 0;
  int64_t dropped_overflow = 0, dropped_rejected = 0, retried = 0, failed_requests = 0;
  for (auto& p : printers_) {
    std::lock_guard<std::mutex> l(p->mu);
    generated += p->events_generated;
    queued += p->commands_queued;
    dups += p->dups_queued;
    runs += p->handler_runs;
    malformed += p->malformed_rejected;
    if (p->last_soak_seq != p->events_generated) {
      Violation(p->fp + ": " + std::to_string(p->events_generated - p->last_soak_seq) +
                " numbered events never arrived");
    }
    if (p->outstanding_id != 0) {
      Violation(p->fp + ": command " + std::to_string(p->outstanding_id) +
                (p->outstanding_dup ? " (re-sent)" : "") + " never ended");
    }
    prusaconnect::PrinterStats st = p->printer->stats();
    dropped_overflow += static_cast<int64_t>(st.events_dropped_overflow);
    dropped_rejected += static_cast<int64_t>(st.events_dropped_rejected);
    retried += static_cast<int64_t>(st.events_retried);
    failed_requests += static_cast<int64_t>(st.requests_failed);
    // The emulator keeps the last few events per printer: every one it
    // accepted must have been read by the checker.
    std::optional<emu::PrinterInfo> info = emulator_->GetPrinter(p->fp);
    if (info && info->event_count != p->events_seen) {
      Violation(p->fp + ": the checker read " + std::to_string(p->events_seen) + " of " +
                std::to_string(info->event_count) + " events the emulator accepted");
    }
  }
  if (runs != queued) {
    Violation("handlers ran " + std::to_string(runs) + " times for " + std::to_string(queued) +
              " commands");
  }
  if (dropped_overflow != 0 || dropped_rejected != 0) {
    Violation("printers dropped events: overflow " + std::to_string(dropped_overflow) +
              ", rejected " + std::to_string(dropped_rejected));
  }
  if (malformed != fault_hits_["malformed"]) {
    Violation("malformed commands injected " + std::to_string(fault_hits_["malformed"]) +
              ", REJECTED " + std::to_string(malformed) +
              " (request log entries missed: " + std::to_string(log_missed_) + ")");
  }
  double growth = rss_base > 0 ? 100.0 * (rss_end - rss_base) / rss_base : 0;
  if (o_.check_rss && growth >= o_.rss_limit_pct) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "RSS grew %.2f %% after warm-up (%ld -> %ld kB)", growth,
                  rss_base, rss_end);
    Violation(buf);
  }
  emu::EmulatorStats es = emulator_->Stats();
  int64_t faults_total = 0;
  for (const auto& [k, v] : fault_hits_) faults_total += v;

  // Printers first (they use the network), then the network, then the server.
  for (auto& p : printers_) p->printer->stop();
  printers_.clear();
  network_.reset();
  emulator_->Stop();

  std::printf("fault_soak: %d printers, %.0f s (warm-up %.0f s), drained in %.1f s\n", o_.printers,
              o_.seconds, o_.warmup, drain_s);
  std::printf("  requests to the emulator      %" PRIu64 " (telemetry %" PRIu64 ", events %" PRIu64
              ")\n",
              es.requests, es.telemetry, es.events);
  std::printf("  faults injected (hits)        %" PRId64 ":", faults_total);
  for (const auto& [k, v] : fault_hits_) std::printf(" %s=%" PRId64, k.c_str(), v);
  std::printf(" (refused connections are not counted; log entries missed %" PRId64 ")",
              log_missed_);
  std::printf("\n  fault windows                ");
  for (const auto& [k, v] : fault_windows_) std::printf(" %s=%" PRId64, k.c_str(), v);
  std::printf("\n  numbered events              generated %" PRId64
              ", delivered once in order %" PRId64 "\n",
              generated, soak_events_seen_);
  std::printf("  commands                     queued %" PRId64 ", re-sent ids %" PRId64
              ", handler runs %" PRId64 ", malformed REJECTED %" PRId64 "\n",
              queued, dups, runs, malformed);
  std::printf("  printer side                 events retried %" PRId64 ", requests failed %" PRId64
              ", errors logged %" PRId64 "\n",
              retried, failed_requests, log_errors.load());
  std::printf(
      "  RSS kB                       start %ld, after warm-up %ld, end %ld, max %ld: %+.2f %%\n",
      rss_start, rss_base, rss_end, rss_max, growth);
  std::printf("  violations                   %" PRId64 "\n", violation_count_);
  for (const std::string& v : violations_) std::printf("    %s\n", v.c_str());
  std::printf(
      "{\"tool\":\"fault_soak\",\"printers\":%d,\"seconds\":%.0f,\"warmup\":%.0f,"
      "\"requests\":%" PRIu64 ",\"faults_injected\":%" PRId64 ",\"events_generated\":%" PRId64
      ",\"events_delivered\":%" PRId64 ",\"emulator_events\":%" PRIu64 ",\"commands\":%" PRId64
      ",\"resent\":%" PRId64 ",\"handler_runs\":%" PRId64 ",\"malformed_rejected\":%" PRId64
      ",\"rss_base_kb\":%ld,\"rss_end_kb\":%ld,"
      "\"rss_growth_pct\":%.2f,\"violations\":%" PRId64 "}\n",
      o_.printers, o_.seconds, o_.warmup, es.requests, faults_total, generated, soak_events_seen_,
      es.events, queued, dups, runs, malformed, rss_base, rss_end, growth, violation_count_);
  std::fflush(stdout);
  return violation_count_ == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  // A bounded run: a watchdog ends a hung process.
  const double limit_s = o.seconds + o.drain + 120;
  std::thread([limit_s] {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(limit_s * 1000)));
    std::fprintf(stderr, "fault_soak: watchdog: still running after %.0f s\n", limit_s);
    std::_Exit(3);
  }).detach();
  Soak soak(o);
  return soak.Run();
}
