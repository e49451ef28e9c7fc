// Copyright 2026 The libprusaconnect Authors.
#include "adapter.h"

#include <chrono>
#include <thread>
#include <utility>

#include "adapter_log.h"
#include "commands.h"
#include "gcode_translate.h"
#include "saturate.h"

namespace octoprint_adapter {

namespace pc = prusaconnect;

namespace {

// Consecutive failed REST polls before OctoPrint counts as unreachable (a
// single slow answer does not flip the printer to ERROR).
constexpr int kUnreachableAfter = 3;
// A socket that sent no `current` for this long is not trusted: poll.
constexpr auto kSocketStale = std::chrono::seconds(5);

using hostio::KwString;
using hostio::Reject;

pc::CommandResult Fail(const std::string& what, const pc::Status& s) {
  LogWarning(what + " failed: " + s.message());
  return hostio::Fail("OctoPrint", what, s);
}

const char* NotOperationalReason(OctoState o) {
  switch (o) {
    case OctoState::kUnreachable:
      return "OctoPrint cannot be reached";
    case OctoState::kOffline:
      return "OctoPrint is not connected to the printer";
    case OctoState::kError:
      return "the printer is in an error state";
    case OctoState::kConnecting:
      return "OctoPrint is still connecting to the printer";
    case OctoState::kBusy:
      return "the printer is busy";
    case OctoState::kPrinting:
      return "the printer is printing";
    case OctoState::kPausing:
      return "the printer is pausing";
    case OctoState::kPaused:
      return "the printer is paused";
    case OctoState::kCancelling:
      return "the print is being cancelled";
    case OctoState::kOperational:
      return "the printer is idle";
  }
  return "unknown state";
}

}  // namespace

Adapter::Adapter(const Config& config, std::shared_ptr<OctoPrintClient> client,
                 pc::Printer* printer, const StateDir* state_dir)
    : config_(config), client_(std::move(client)), printer_(printer), state_dir_(state_dir) {
  storage_ = std::make_shared<OctoPrintStorage>(client_, config_.storage_name);
}

void Adapter::InstallHandlers() {
  printer_->set_handler(pc::Command::START_PRINT, [this](const pc::CommandRequest& c) {
    LogScope scope(config_.log_name);
    return StartPrint(c);
  });
  printer_->set_handler(pc::Command::STOP_PRINT, [this](const pc::CommandRequest& c) {
    LogScope scope(config_.log_name);
    return JobCommand(c, "cancel");
  });
  printer_->set_handler(pc::Command::PAUSE_PRINT, [this](const pc::CommandRequest& c) {
    LogScope scope(config_.log_name);
    return JobCommand(c, "pause");
  });
  printer_->set_handler(pc::Command::RESUME_PRINT, [this](const pc::CommandRequest& c) {
    LogScope scope(config_.log_name);
    return JobCommand(c, "resume");
  });
  printer_->set_handler(pc::Command::GCODE, [this](const pc::CommandRequest& c) {
    LogScope scope(config_.log_name);
    return Gcode(c);
  });
  printer_->set_handler(pc::Command::SET_PRINTER_READY, [this](const pc::CommandRequest&) {
    LogScope scope(config_.log_name);
    return SetReady(true);
  });
  printer_->set_handler(pc::Command::CANCEL_PRINTER_READY, [this](const pc::CommandRequest&) {
    LogScope scope(config_.log_name);
    return SetReady(false);
  });
  printer_->set_handler(pc::Command::SEND_JOB_INFO, [this](const pc::CommandRequest&) {
    LogScope scope(config_.log_name);
    return JobInfo();
  });
  printer_->set_printed_file_cb([this] { return PrintedFile(); });
  printer_->set_download_finished_cb([this](const pc::TransferInfo& t) {
    LogScope scope(config_.log_name);
    OnDownloadFinished(t);
  });
}

OctoState Adapter::CurrentOcto() {
  std::lock_guard<std::mutex> lock(mu_);
  return octo_;
}

std::string Adapter::PrintedFile() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!HasJob(octo_) || job_path_.empty()) return "";
  return "/" + config_.storage_name + "/" + job_path_;
}

pc::StatusOr<pc::CommandResult> Adapter::StartPrint(const pc::CommandRequest& c) {
  std::string path = KwString(c, "path");
  std::string prefix = "/" + config_.storage_name + "/";
  if (path.empty()) return Reject("START_PRINT needs the file's path");
  if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size()) {
    return Reject("Only files in " + prefix + " (OctoPrint's uploads) can be printed, not " + path);
  }
  OctoState o = CurrentOcto();
  if (o != OctoState::kOperational) {
    return Reject(std::string("Cannot start a print: ") + NotOperationalReason(o));
  }
  std::string local = path.substr(prefix.size());
  ConnectCauses(true, /*clear_hold=*/true);
  pc::StatusOr<pc::Json> r =
      client_->Post(OctoPrintClient::FilePath(local),
                    pc::Json::MakeObject({{"command", "select"}, {"print", true}}));
  if (!r.ok()) {
    ConnectCauses(false);
    return Fail("Starting " + path, r.status());
  }
  LogInfo("START_PRINT " + path + ": OctoPrint is starting the print");
  Wake();
  return pc::CommandResult{};
}

pc::StatusOr<pc::CommandResult> Adapter::JobCommand(const pc::CommandRequest&, const char* what) {
  std::string name(what);
  OctoState o = CurrentOcto();
  pc::Json body;
  if (name == "cancel") {
    if (!HasJob(o) || o == OctoState::kCancelling) {
      return Reject(std::string("Nothing to stop: ") + NotOperationalReason(o));
    }
    body = pc::Json::MakeObject({{"command", "cancel"}});
  } else if (name == "pause") {
    if (o != OctoState::kPrinting) {
      return Reject(std::string("Cannot pause: ") + NotOperationalReason(o));
    }
    body = pc::Json::MakeObject({{"command", "pause"}, {"action", "pause"}});
  } else {
    // Connect shows OctoPrint's Pausing as PAUSED and may send RESUME at
    // once: wait (a handler thread) for OctoPrint to be paused.
    for (int i = 0; i < 100 && o == OctoState::kPausing; ++i) {
      Wake();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      o = CurrentOcto();
    }
    if (o != OctoState::kPaused) {
      return Reject(std::string("Cannot resume: ") + NotOperationalReason(o));
    }
    body = pc::Json::MakeObject({{"command", "pause"}, {"action", "resume"}});
  }
  ConnectCauses(true);
  pc::StatusOr<pc::Json> r = client_->Post("/api/job", body);
  if (!r.ok()) {
    ConnectCauses(false);
    return Fail("Job command " + name, r.status());
  }
  LogInfo("job command " + name + " sent to OctoPrint");
  if (name == "cancel") {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
  }
  Wake();
  return pc::CommandResult{};
}

pc::StatusOr<pc::CommandResult> Adapter::Gcode(const pc::CommandRequest& c) {
  std::string text = KwString(c, "gcode");
  if (text.empty()) return Reject("GCODE needs the G-code to send");
  GcodeTranslation t = TranslateGcode(text);
  if (!t.ok) return Reject(t.reason);
  pc::CommandResult done;
  done.source = pc::Source::MARLIN;
  if (t.lines.empty()) return done;  // only comments or dropped lines
  OctoState o = CurrentOcto();
  if (o == OctoState::kUnreachable || o == OctoState::kOffline || o == OctoState::kConnecting) {
    return Reject(std::string("Cannot send G-code: ") + NotOperationalReason(o));
  }
  pc::Json lines = pc::Json::MakeArray();
  bool moves = false;
  for (const std::string& l : t.lines) {
    lines.push_back(l);
    char c0 = l.size() > 1 ? l[0] : ' ';
    if ((c0 == 'G' || c0 == 'g') &&
        (l[1] == '0' || l[1] == '1' || l.rfind("G28", 0) == 0 || l.rfind("G29", 0) == 0)) {
      moves = true;
    }
  }
  // OctoPrint reports Z only while printing; after moves on an idle printer
  // an M114 makes it parse the position (PositionUpdate event).
  if (moves && o == OctoState::kOperational) lines.push_back("M114");
  pc::StatusOr<pc::Json> r =
      client_->Post("/api/printer/command", pc::Json::MakeObject({{"commands", lines}}));
  if (!r.ok()) return Fail("Sending G-code", r.status());
  return done;
}

pc::StatusOr<pc::CommandResult> Adapter::SetReady(bool ready) {
  OctoState o = CurrentOcto();
  if (ready && o != OctoState::kOperational) {
    return Reject(std::string("Cannot set the printer ready: ") + NotOperationalReason(o));
  }
  if (!ready && !printer_->ready()) return Reject("The printer is not set ready");
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_.reset();
    reported_ = ready ? pc::State::READY : pc::State::IDLE;
    reported_reason_.clear();
  }
  printer_->set_state(ready ? pc::State::READY : pc::State::IDLE, pc::Source::CONNECT, ready);
  return pc::CommandResult{};
}

pc::StatusOr<pc::CommandResult> Adapter::JobInfo() {
  Snapshot s;
  OctoState o;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = snap_;
    o = octo_;
  }
  std::optional<int64_t> id = printer_->job_id();
  if (!HasJob(o) || !id) return Reject("No job is running");
  pc::CommandResult r;
  r.event = pc::Event::JOB_INFO;
  r.job_id = id;
  r.data.set("job_id", *id);
  r.data.set("path", "/" + config_.storage_name + "/" + s.file_path);
  r.data.set("display_name", s.file_name);
  if (s.file_size) r.data.set("size", *s.file_size);
  if (s.file_date) r.data.set("m_timestamp", *s.file_date);
  if (s.completion) r.data.set("progress", SaturatingCast<int>(*s.completion));
  if (s.print_time) r.data.set("time_printing", *s.print_time);
  if (s.print_time_left) r.data.set("time_remaining", *s.print_time_left);
  return r;
}

void Adapter::OnDownloadFinished(const pc::TransferInfo& t) {
  if (!t.to_print && !t.to_select) return;
  std::string prefix = "/" + config_.storage_name + "/";
  if (t.path.rfind(prefix, 0) != 0) return;
  std::string local = t.path.substr(prefix.size());
  ConnectCauses(true, /*clear_hold=*/true);
  pc::StatusOr<pc::Json> r =
      client_->Post(OctoPrintClient::FilePath(local),
                    pc::Json::MakeObject({{"command", "select"}, {"print", t.to_print}}));
  if (!r.ok()) {
    ConnectCauses(false);
    LogWarning("downloaded " + t.path + " but OctoPrint refused to " +
               (t.to_print ? "print" : "select") + " it: " + r.status().message());
    return;
  }
  Wake();
}

void Adapter::ConnectCauses(bool on, bool clear_hold) {
  std::lock_guard<std::mutex> lock(mu_);
  next_source_ = on ? pc::Source::CONNECT : pc::Source::MARLIN;
  if (clear_hold) hold_.reset();
}

void Adapter::Wake() {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = WakeLocked();
  }
  if (hook) hook();
}

void Adapter::SetReportHook(hostio::ReportHook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  report_hook_ = std::move(hook);
}

void Adapter::SetWakeHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  wake_hook_ = std::move(hook);
}

int64_t Adapter::NextStepMs() {
  std::lock_guard<std::mutex> lock(mu_);
  return HasJob(octo_) ? config_.printing_interval_ms : config_.idle_interval_ms;
}

std::string Adapter::Describe() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string s = std::string("OctoPrint ") + OctoStateName(octo_);
  if (!snap_.error.empty() && !snap_.reachable) s += ": " + snap_.error;
  if (HasJob(octo_) && snap_.completion) {
    s += ", " + std::to_string(SaturatingCast<int>(*snap_.completion)) + " %";
  }
  return s;
}

void Adapter::OnCurrent(const pc::Json& current) {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ApplyCurrent(current, &snap_);
    socket_seen_ = Clock::now();
    // A state change is reported at once, not at the next period.
    if (ClassifyOcto(snap_) != octo_) hook = WakeLocked();
  }
  if (hook) hook();
}

void Adapter::OnEvent(const std::string& type, const pc::Json& payload) {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ApplyEventLocked(type, payload)) return;
    hook = WakeLocked();
  }
  if (hook) hook();
}

bool Adapter::ApplyEventLocked(const std::string& type, const pc::Json& payload) {
  if (type == "PrintStarted" || type == "FileSelected" || type == "PrintCancelled") {
    // OctoPrint forgets its Z here too (currentZ = None).
    snap_.current_z.reset();
    snap_.position_z.reset();
  }
  if (type == "PrintDone") {
    job_end_event_ = pc::State::FINISHED;
  } else if (type == "PrintCancelled" || type == "PrintFailed") {
    if (!job_end_event_) job_end_event_ = pc::State::STOPPED;
  } else if (type == "PrintStarted" || type == "FileSelected") {
    // The state change follows in `current`; poll now.
  } else if (type == "UpdatedFiles" || type == "FileAdded" || type == "FileRemoved" ||
             type == "FolderAdded" || type == "FolderRemoved" || type == "FileMoved" ||
             type == "FolderMoved") {
    files_dirty_ = true;
  } else if (type == "PositionUpdate") {
    if (const pc::Json* z = payload.is_object() ? payload.find("z") : nullptr;
        z != nullptr && z->is_number()) {
      snap_.position_z = z->as_double();
    }
  } else if (type == "PrinterStateChanged" || type == "Connected" || type == "Disconnected") {
    // The next `current` carries the details; poll now in case it is late.
  } else {
    return false;
  }
  return true;
}

std::function<void()> Adapter::WakeLocked() {
  wake_ = true;
  cv_.notify_all();
  return wake_hook_;
}

void Adapter::OnSocketUp(bool up) {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    socket_up_ = up;
    if (up) files_dirty_ = true;  // changes may have been missed meanwhile
    // Z comes only through the socket: it is not current any more.
    if (!up) {
      snap_.current_z.reset();
      snap_.position_z.reset();
    }
    hook = WakeLocked();
  }
  if (hook) hook();
}

void Adapter::EnsureStorage() {
  bool attach = false, refresh = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Clock::time_point now = Clock::now();
    bool poll_due =
        !socket_up_ && now - files_polled_ >= std::chrono::milliseconds(config_.files_poll_ms);
    if (!storage_attached_) {
      attach = true;
    } else if (files_dirty_ || poll_due) {
      refresh = true;
    }
    if (attach || refresh) {
      files_dirty_ = false;
      files_polled_ = now;
    }
  }
  if (attach) {
    pc::Status s = printer_->attach_storage(storage_);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      storage_attached_ = true;
      LogInfo("OctoPrint's files attached as storage /" + config_.storage_name);
    } else {
      LogDebug("cannot list OctoPrint's files yet: " + s.message());
    }
  } else if (refresh) {
    pc::Status s = printer_->fs().Refresh(config_.storage_name);
    if (!s.ok()) {
      LogDebug("refreshing OctoPrint's files failed: " + s.message());
      std::lock_guard<std::mutex> lock(mu_);
      files_dirty_ = true;
    }
  }
}

void Adapter::Step() {
  Snapshot s;
  bool use_socket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    use_socket = socket_up_ && Clock::now() - socket_seen_ < kSocketStale && snap_.reachable;
    s = snap_;
  }
  if (!use_socket) {
    // The state first, then the job: a job that ends between the two reads
    // is then seen still printing with its final progress (100 when done),
    // never idle with the progress from before it ended, which would read
    // as a cancel.
    pc::Json printer;
    pc::StatusOr<pc::Json> p = client_->Get("/api/printer?exclude=sd");
    pc::Status error = p.status();
    if (p.ok()) {
      printer = std::move(*p);
    } else if (p.status().code() == pc::StatusCode::kFailedPrecondition) {
      error = pc::Status::OK();  // 409 only means "not operational"
    }
    pc::StatusOr<pc::Json> job(pc::Json{});
    if (error.ok()) {
      job = client_->Get("/api/job");
      error = job.status();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (error.ok()) {
      rest_failures_ = 0;
      ever_reached_ = true;
      ApplyRest(printer, *job, &snap_);
      if (!last_error_logged_.empty()) {
        LogInfo("OctoPrint is reachable again");
        last_error_logged_.clear();
      }
    } else {
      ++rest_failures_;
      if (error.message() != last_error_logged_) {
        (error.code() == pc::StatusCode::kPermissionDenied ? LogError
                                                           : LogWarning)(error.message());
        last_error_logged_ = error.message();
      }
      // Before OctoPrint ever answered there is nothing to wait for: the
      // reason is reported at once.
      if (!ever_reached_ || rest_failures_ >= kUnreachableAfter ||
          error.code() == pc::StatusCode::kPermissionDenied) {
        snap_.reachable = false;
        snap_.error = error.message();
        // Nothing is known any more: send no stale temperatures or Z.
        ForgetLiveValues(&snap_);
      }
    }
    s = snap_;
  }
  Report(s);
  if (s.reachable && !software_set_) {
    // Once: OctoPrint's version for the User-Agent-Version header (unknown
    // when OctoPrint was down at start). Whether the push socket or REST
    // polling told us OctoPrint is up.
    pc::StatusOr<pc::Json> v = client_->Get("/api/version");
    const pc::Json* text = v.ok() ? v->find("text") : nullptr;
    if (text != nullptr && text->is_string()) {
      printer_->set_software("prusaconnect-octoprint (" + text->as_string() + ")");
      software_set_ = true;
    }
  }
  if (s.reachable) EnsureStorage();
  MaybeReconnectPrinter(s);
}

void Adapter::MaybeReconnectPrinter(const Snapshot& s) {
  if (!config_.reconnect_printer) return;
  OctoState o = ClassifyOcto(s);
  bool dropped = o == OctoState::kError && s.state_text.rfind("Offline", 0) == 0;
  Clock::time_point now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dropped) {
      if (o == OctoState::kOperational || HasJob(o)) reconnect_backoff_ms_ = 5000;
      return;
    }
    if (now < next_reconnect_) return;
    next_reconnect_ = now + std::chrono::milliseconds(reconnect_backoff_ms_);
    reconnect_backoff_ms_ = std::min<int64_t>(reconnect_backoff_ms_ * 2, 300000);
  }
  LogWarning("OctoPrint lost the printer (" + s.state_text +
             (s.error.empty() ? std::string() : ": " + s.error) + "); asking it to reconnect");
  pc::StatusOr<pc::Json> r =
      client_->Post("/api/connection", pc::Json::MakeObject({{"command", "connect"}}));
  if (!r.ok()) LogWarning("reconnecting the printer failed: " + r.status().message());
}

void Adapter::Report(const Snapshot& s) {
  OctoState o = ClassifyOcto(s);
  bool has_job = HasJob(o);
  bool new_job = false;
  std::optional<pc::State> ended;
  pc::State desired;
  pc::Source source;
  bool changed;
  std::string job_path;
  std::string why;  // the reason of an ERROR
  {
    std::lock_guard<std::mutex> lock(mu_);
    octo_ = o;
    if (has_job && !had_job_) {
      new_job = true;
      job_path_ = s.file_path;
      // Whatever Z we knew belongs to before this job.
      if (snap_.current_z == s.current_z) snap_.current_z.reset();
      if (snap_.position_z == s.position_z) snap_.position_z.reset();
      hold_.reset();
      stop_requested_ = false;
      job_end_event_.reset();
    }
    if (!has_job && had_job_ && o != OctoState::kUnreachable) {
      if (job_end_event_) {
        ended = job_end_event_;
      } else if (stop_requested_) {
        ended = pc::State::STOPPED;
      } else {
        // Polling may miss the last moments: OctoPrint keeps the finished
        // job's progress (100 after PrintDone, the cancel point otherwise).
        bool done = (last_completion_ && *last_completion_ >= 99.9) ||
                    (s.completion && *s.completion >= 99.9 && s.file_path == job_path_);
        ended = done ? pc::State::FINISHED : pc::State::STOPPED;
        LogDebug("no end event for the job; progress " +
                 (last_completion_ ? std::to_string(*last_completion_) : std::string("-")) +
                 " then " + (s.completion ? std::to_string(*s.completion) : std::string("-")) +
                 " of " + s.file_path + " (job " + job_path_ + ")");
      }
      hold_ = ended;
      job_end_event_.reset();
      stop_requested_ = false;
    }
    if (has_job) last_completion_ = s.completion;
    had_job_ = has_job || (had_job_ && o == OctoState::kUnreachable);
    desired = MapState(o);
    if (desired == pc::State::IDLE) {
      if (hold_) {
        desired = *hold_;
      } else if (printer_->ready()) {
        desired = pc::State::READY;
      }
    }
    if (desired == pc::State::ERROR) {
      why = !s.error.empty() ? s.error
            : !s.reachable   ? std::string(NotOperationalReason(o))
                             : std::string(NotOperationalReason(o)) + " (OctoPrint state: " +
                                 (s.state_text.empty() ? "unknown" : s.state_text) + ")";
    }
    // A new reason while in ERROR (unreachable -> bad API key) is news too.
    changed = !reported_ || *reported_ != desired || why != reported_reason_;
    reported_ = desired;
    reported_reason_ = why;
    source = next_source_;
    if (changed) next_source_ = pc::Source::MARLIN;
    job_path = job_path_;
  }
  if (new_job) {
    std::optional<int64_t> id = state_dir_->LoadJob(job_path);
    if (!id) {
      id = state_dir_->LastJobId() + 1;
      pc::Status saved = state_dir_->SaveJob(*id, job_path);
      if (!saved.ok()) LogWarning("cannot store the job id: " + saved.message());
    }
    printer_->set_job_id(id);
    LogInfo("job " + std::to_string(*id) + " started: " + job_path);
  }
  if (changed) {
    pc::EventFields fields;
    if (desired == pc::State::ERROR) fields.reason = why;
    LogInfo(std::string("state ") + pc::ToString(desired) + " (OctoPrint: " + OctoStateName(o) +
            ")" + (why.empty() ? "" : ": " + why));
    printer_->set_state(desired, source, std::nullopt, fields);
  }
  if (ended) {
    LogInfo(std::string("job ended: ") + pc::ToString(*ended));
    printer_->set_job_id(std::nullopt);
    // A new print of the same file is a new job (only a print still running
    // across an adapter restart keeps its id).
    pc::Status saved = state_dir_->EndJob();
    if (!saved.ok()) LogWarning("cannot store the end of the job: " + saved.message());
  }
  pc::Telemetry telemetry = BuildTelemetry(s, has_job);
  if (new_job) telemetry.axis_z.reset();  // the Z known so far is the last job's
  printer_->telemetry(telemetry);
  hostio::ReportHook hook;
  hostio::Reported r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = report_hook_;
    if (hook) {
      r.state = reported_.value_or(desired);
      r.reason = reported_reason_;
      r.job_file = has_job || hold_ ? job_path_ : std::string();
      r.host_reachable = o != OctoState::kUnreachable;
    }
  }
  if (hook) {
    r.job_id = printer_->job_id();
    r.telemetry = std::move(telemetry);
    hook(r);
  }
}

void Adapter::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    // The period runs from the start of one step to the next, so the
    // cadence does not drift by the time a step takes.
    Clock::time_point started = Clock::now();
    Step();
    int64_t interval;
    {
      std::lock_guard<std::mutex> lock(mu_);
      interval = HasJob(octo_) ? config_.printing_interval_ms : config_.idle_interval_ms;
    }
    Clock::time_point until = started + std::chrono::milliseconds(interval);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop && !wake_ && Clock::now() < until) {
      cv_.wait_until(lock, std::min(until, Clock::now() + std::chrono::milliseconds(200)));
    }
    wake_ = false;
  }
}

}  // namespace octoprint_adapter
