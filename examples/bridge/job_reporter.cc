// Copyright 2026 The libprusaconnect Authors.
#include "job_reporter.h"

#include <memory>
#include <utility>

#include "adapter_log.h"
#include "commands.h"

namespace bridge {

namespace pc = prusaconnect;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

const char* HostStateName(HostState s) {
  switch (s) {
    case HostState::kUnreachable:
      return "unreachable";
    case HostState::kStarting:
      return "starting";
    case HostState::kIdle:
      return "idle";
    case HostState::kBusy:
      return "busy";
    case HostState::kPrinting:
      return "printing";
    case HostState::kPaused:
      return "paused";
    case HostState::kFinished:
      return "finished";
    case HostState::kStopped:
      return "stopped";
    case HostState::kError:
      return "error";
    case HostState::kAttention:
      return "attention";
  }
  return "unknown";
}

namespace {

bool InJob(HostState s) { return s == HostState::kPrinting || s == HostState::kPaused; }

// States that say nothing about the job (the host is away or starting): the
// job neither starts nor ends on them.
bool Undecided(HostState s) { return s == HostState::kUnreachable || s == HostState::kStarting; }

}  // namespace

JobReporter::JobReporter(pc::Printer* printer, const octoprint_adapter::StateDir* state,
                         std::string storage_name, std::string host_name)
    : printer_(printer),
      state_(state),
      storage_name_(std::move(storage_name)),
      host_name_(std::move(host_name)) {}

void JobReporter::InstallHandlers() {
  printer_->set_handler(pc::Command::SET_PRINTER_READY,
                        [this](const pc::CommandRequest&) { return SetReady(true); });
  printer_->set_handler(pc::Command::CANCEL_PRINTER_READY,
                        [this](const pc::CommandRequest&) { return SetReady(false); });
  printer_->set_handler(pc::Command::SEND_JOB_INFO,
                        [this](const pc::CommandRequest&) { return JobInfo(); });
  printer_->set_printed_file_cb([this] { return PrintedFile(); });
}

void JobReporter::ConnectCauses(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  next_source_ = on ? pc::Source::CONNECT : pc::Source::FIRMWARE;
}

HostSnapshot JobReporter::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

std::string JobReporter::PrintedFile() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!in_job_ || job_file_.empty()) return "";
  return "/" + storage_name_ + "/" + job_file_;
}

void JobReporter::Report(const HostSnapshot& s) {
  bool new_job = false;
  bool ended = false;
  bool changed;
  pc::State desired = pc::State::IDLE;
  pc::Source source;
  std::string why;
  std::string job_file;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = s;
    if (InJob(s.state) && (!in_job_ || (!s.job_file.empty() && s.job_file != job_file_))) {
      new_job = true;
      in_job_ = true;
      job_file_ = s.job_file;
      hold_cleared_ = false;
    } else if (in_job_ && !InJob(s.state) && !Undecided(s.state)) {
      ended = true;
      in_job_ = false;
    }
    job_file = job_file_;
    switch (s.state) {
      case HostState::kUnreachable:
      case HostState::kError:
        desired = pc::State::ERROR;
        why = s.reason.empty() ? host_name_ + " reports an error" : s.reason;
        break;
      case HostState::kAttention:
        desired = pc::State::ATTENTION;
        why = s.reason;
        break;
      case HostState::kStarting:
      case HostState::kBusy:
        desired = pc::State::BUSY;
        break;
      case HostState::kPrinting:
        desired = pc::State::PRINTING;
        break;
      case HostState::kPaused:
        desired = pc::State::PAUSED;
        break;
      case HostState::kFinished:
      case HostState::kStopped:
        if (!hold_cleared_) {
          desired = s.state == HostState::kFinished ? pc::State::FINISHED : pc::State::STOPPED;
          break;
        }
        [[fallthrough]];
      case HostState::kIdle:
        desired = printer_->ready() ? pc::State::READY : pc::State::IDLE;
        break;
    }
    changed = !reported_ || *reported_ != desired || why != reported_reason_;
    reported_ = desired;
    reported_reason_ = why;
    source = next_source_;
    if (changed) next_source_ = pc::Source::FIRMWARE;
  }
  if (new_job) {
    std::optional<int64_t> id = state_->LoadJob(job_file);
    if (!id) {
      id = state_->LastJobId() + 1;
      pc::Status saved = state_->SaveJob(*id, job_file);
      if (!saved.ok()) LogWarning("cannot store the job id: " + saved.message());
    }
    printer_->set_job_id(id);
    LogInfo("job " + std::to_string(*id) + " started: " + job_file);
  }
  if (changed) {
    pc::EventFields fields;
    if (!why.empty()) fields.reason = why;
    LogInfo(std::string("state ") + pc::ToString(desired) + " (" + host_name_ + ": " +
            HostStateName(s.state) + ")" + (why.empty() ? "" : ": " + why));
    std::optional<bool> ready;
    if (desired == pc::State::PRINTING) ready = false;
    printer_->set_state(desired, source, ready, fields);
  }
  if (ended) {
    LogInfo(std::string("job ended: ") + HostStateName(s.state));
    printer_->set_job_id(std::nullopt);
    pc::Status saved = state_->EndJob();
    if (!saved.ok()) LogWarning("cannot store the end of the job: " + saved.message());
  }
  printer_->telemetry(s.telemetry);
  if (report_hook_) {
    hostio::Reported r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      r.state = reported_.value_or(desired);
      r.reason = reported_reason_;
      r.job_file = in_job_ || desired == pc::State::FINISHED || desired == pc::State::STOPPED
                       ? job_file_
                       : std::string();
    }
    r.job_id = printer_->job_id();
    r.host_reachable = s.state != HostState::kUnreachable;
    r.telemetry = s.telemetry;
    report_hook_(r);
  }
}

pc::CommandResult JobReporter::SetReady(bool ready) {
  HostState now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now = last_.state;
  }
  bool idle_like =
      now == HostState::kIdle || now == HostState::kFinished || now == HostState::kStopped;
  if (ready && !idle_like) {
    return hostio::Reject(std::string("Cannot set the printer ready: it is ") + HostStateName(now));
  }
  if (!ready && !printer_->ready()) return hostio::Reject("The printer is not set ready");
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_cleared_ = true;
    reported_ = ready ? pc::State::READY : pc::State::IDLE;
    reported_reason_.clear();
  }
  printer_->set_state(ready ? pc::State::READY : pc::State::IDLE, pc::Source::CONNECT, ready);
  return pc::CommandResult{};
}

pc::CommandResult JobReporter::JobInfo() {
  HostSnapshot s;
  bool in_job;
  std::string file;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = last_;
    in_job = in_job_;
    file = job_file_;
  }
  std::optional<int64_t> id = printer_->job_id();
  if (!in_job || !id) return hostio::Reject("No job is running");
  pc::CommandResult r;
  r.event = pc::Event::JOB_INFO;
  r.job_id = id;
  r.data.set("job_id", *id);
  r.data.set("path", "/" + storage_name_ + "/" + file);
  size_t slash = file.rfind('/');
  r.data.set("display_name", slash == std::string::npos ? file : file.substr(slash + 1));
  if (s.job_size) r.data.set("size", *s.job_size);
  if (s.telemetry.progress) r.data.set("progress", *s.telemetry.progress);
  if (s.telemetry.time_printing) r.data.set("time_printing", *s.telemetry.time_printing);
  if (s.telemetry.time_remaining) r.data.set("time_remaining", *s.telemetry.time_remaining);
  return r;
}

void InstallJobCommands(pc::Printer* printer, const std::string& name, JobCommands commands) {
  auto shared = std::make_shared<JobCommands>(std::move(commands));
  auto request = [printer, name, shared](pc::Command command, auto call) {
    printer->set_handler(command, [name, shared, call](const pc::CommandRequest& c) {
      octoprint_adapter::LogScope scope(name);
      return call(*shared, c);
    });
  };
  request(pc::Command::START_PRINT,
          [](JobCommands& j, const pc::CommandRequest& c) { return j.start(c); });
  request(pc::Command::STOP_PRINT,
          [](JobCommands& j, const pc::CommandRequest&) { return j.job("stop"); });
  request(pc::Command::PAUSE_PRINT,
          [](JobCommands& j, const pc::CommandRequest&) { return j.job("pause"); });
  request(pc::Command::RESUME_PRINT,
          [](JobCommands& j, const pc::CommandRequest&) { return j.job("resume"); });
  request(pc::Command::GCODE,
          [](JobCommands& j, const pc::CommandRequest& c) { return j.gcode(c); });
}

}  // namespace bridge
