// Copyright 2026 The libprusaconnect Authors.
#include "facade/printer_session.h"

#include <chrono>
#include <exception>
#include <random>
#include <utility>

#include "protocol/render.h"

namespace prusaconnect::internal {
namespace {

RandomSource SeededRandom() {
  std::random_device device;
  uint64_t seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  return XorShiftRandom(seed);
}

}  // namespace

// Holds the session lock; on destruction releases it, then carries out what
// the core decided meanwhile: condition changes, host work (stop callback,
// a command for the handler threads, the register handler), waking waiters
// and the driver.
class SessionGuard {
 public:
  explicit SessionGuard(PrinterSession* s) : s_(s), lock_(s->mu_) {}
  ~SessionGuard() {
    SessionCore::Effects e = s_->core_.TakeEffects();
    if (e.empty()) return;  // unlocks
    std::vector<std::function<void()>> work;
    if (e.preempted && s_->stop_cb_) work.push_back(s_->stop_cb_);
    if (e.accepted && s_->background_handlers_) {
      std::weak_ptr<PrinterSession> weak = s_->weak_from_this();
      work.push_back([weak] {
        if (auto self = weak.lock()) self->RunCommand();
      });
    }
    if (e.registered && s_->register_handler_) {
      auto handler = s_->register_handler_;
      std::string token = *e.registered;
      work.push_back([handler, token] { handler(token); });
    }
    PrinterSession::Executor executor = work.empty() ? nullptr : s_->executor_;
    std::function<void()> waker = e.wake ? s_->waker_ : nullptr;
    lock_.unlock();
    if (e.changed || e.accepted) s_->cv_.notify_all();
    for (const SessionCore::Effects::CondChange& c : e.conds) {
      Condition* node = s_->Node(c.node);
      if (c.reason.empty()) {
        node->set_state(c.state);
      } else {
        node->set_state(c.state, c.reason);
      }
    }
    for (auto& w : work) {
      if (executor) {
        executor(std::move(w));
      } else {
        w();
      }
    }
    if (waker) waker();
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;

 private:
  PrinterSession* s_;
  std::unique_lock<std::mutex> lock_;
};

CoreOptions PrinterSession::CoreOptionsOf(const PrinterOptions& o) {
  CoreOptions c;
  c.mmu_supported = o.mmu_supported;
  c.event_buffer_size = o.event_buffer_size;
  c.backoff_min_ms = o.backoff_min_ms;
  c.backoff_max_ms = o.backoff_max_ms;
  c.request_timeout_ms = o.request_timeout_ms;
  c.register_poll_interval_ms = o.register_poll_interval_ms;
  c.register_timeout_ms = o.register_timeout_ms;
  c.verify_tls = o.verify_tls;
  c.ca_file = o.ca_file;
  return c;
}

PrinterSession::PrinterSession(std::optional<PrinterType> type, std::string sn,
                               std::string fingerprint, const PrinterOptions& options,
                               const Clock* clock, RandomSource random)
    : network_(options.network),
      background_handlers_(options.background_handlers),
      core_(type, std::move(sn), std::move(fingerprint), CoreOptionsOf(options), clock,
            random ? std::move(random) : SeededRandom()) {}

PrinterSession::~PrinterSession() = default;

Condition* PrinterSession::Node(CondNode node) {
  switch (node) {
    case CondNode::kInternet:
      return &conditions_.INTERNET;
    case CondNode::kHttp:
      return &conditions_.HTTP;
    case CondNode::kToken:
      return &conditions_.TOKEN;
    case CondNode::kApi:
      break;
  }
  return &conditions_.API;
}

void PrinterSession::SetExecutor(Executor executor) {
  std::lock_guard<std::mutex> lock(mu_);
  executor_ = std::move(executor);
}

void PrinterSession::SetWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = std::move(waker);
}

void PrinterSession::SetObserver(RequestObserver observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observer_ = std::move(observer);
}

// ---------------------------------------------------------------- driver side

std::optional<Session::Outgoing> PrinterSession::Next(int64_t now_us, int64_t* wake_at_us) {
  SessionGuard guard(this);
  return core_.Next(now_us, wake_at_us);
}

void PrinterSession::Complete(const Outgoing& out, const HttpResponse& r, int64_t now_us) {
  RequestObserver observer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    observer = observer_;
  }
  if (observer) {
    RequestRecord record;
    record.kind = out.kind;
    record.http_status = r.status;
    record.queued_us = out.queued_us;
    record.done_us = now_us;
    observer(record);
  }
  SessionGuard guard(this);
  core_.Complete(out, r, now_us);
}

void PrinterSession::Cancelled() {
  SessionGuard guard(this);
  core_.Cancelled();
}

void PrinterSession::RunLoop(const std::function<void()>& started) {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_running_ = true;
  }
  // Marked running before traffic starts, so a stop_loop() that follows
  // anything the loop sent cannot be lost.
  started();
  std::unique_lock<std::mutex> lock(loop_mu_);
  loop_cv_.wait(lock, [this] { return !loop_running_; });
}

void PrinterSession::StopLoop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_running_ = false;
  }
  loop_cv_.notify_all();
}

StatusOr<HttpRequest> PrinterSession::MakePrinterRequest(const char* method,
                                                         const std::string& path) {
  SessionGuard guard(this);
  return core_.MakePrinterRequest(method, path);
}

StatusOr<HttpRequest> PrinterSession::MakeRegisterRequest() {
  SessionGuard guard(this);
  return core_.MakeRegisterRequest();
}

StatusOr<std::string> PrinterSession::CompleteRegister(const HttpResponse& r) {
  SessionGuard guard(this);
  return core_.CompleteRegister(r);
}

HeaderList PrinterSession::HeadersForDownload(bool to_connect) {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.HeadersForDownload(to_connect);
}

// ---------------------------------------------------------------- commands

void PrinterSession::set_supported_commands(std::vector<CommandDefinition> definitions) {
  SessionGuard guard(this);
  core_.commands().set_definitions(std::move(definitions));
}

std::vector<CommandDefinition> PrinterSession::supported_commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.commands().definitions();
}

std::vector<Command> PrinterSession::HandledCommands() {
  std::vector<Command> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i <= static_cast<int>(Command::DIALOG_ACTION); ++i) {
    auto c = static_cast<Command>(i);
    if (handlers_.Find(c) != nullptr || default_handlers_.Find(c) != nullptr || BuiltinHandler(c)) {
      out.push_back(c);
    }
  }
  return out;
}

Status PrinterSession::EndCommand(std::optional<int64_t> command_id, Event event, Source source,
                                  const EventFields& fields, const Json& data, std::string* head) {
  SessionGuard guard(this);
  return core_.EndCommand(command_id, event, source, fields, data, head);
}

void PrinterSession::RunCommand() {
  CommandHandler handler;
  bool known;
  bool builtin_info = false;  // SEND_INFO answered by the library itself
  std::optional<CommandRequest> started;
  {
    SessionGuard guard(this);
    started = core_.commands().StartRun();
    if (!started) return;
    known = started->command.has_value();
    if (known) {
      Command c = *started->command;
      if (const CommandHandler* h = handlers_.Find(c)) {
        handler = *h;
      } else if (const CommandHandler* d = default_handlers_.Find(c)) {
        handler = *d;
      } else {
        handler = BuiltinHandler(c);
        builtin_info = c == Command::SEND_INFO;
      }
    }
  }
  const CommandRequest& req = *started;
  EventFields f;
  if (!known) {
    f.reason = "Unknown command";
    EndCommand(req.command_id, Event::REJECTED, Source::WUI, f, Json());
    return;
  }
  if (!handler) {
    f.reason = "Not Implemented";
    EndCommand(req.command_id, Event::REJECTED, Source::WUI, f, Json());
    return;
  }
  std::string error;
  if (builtin_info) {
    // BuiltinHandler(SEND_INFO)'s answer, rendered without building the
    // file tree as Json (a storage of 10,000 files is a 1.2 MB text).
    try {
      std::string head = InfoEventHead();
      EndCommand(req.command_id, Event::INFO, Source::CONNECT, f, Json(), &head);
      return;
    } catch (const std::exception& e) {
      error = e.what();
    }
    f.reason = "Command error";
    EndCommand(req.command_id, Event::FAILED, Source::WUI, f, Json::MakeObject({{"error", error}}));
    return;
  }
  std::optional<StatusOr<CommandResult>> result;
  try {
    result.emplace(handler(req));
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  if (result && !result->ok()) error = result->status().message();
  if (!result || !result->ok()) {
    f.reason = "Command error";
    EndCommand(req.command_id, Event::FAILED, Source::WUI, f, Json::MakeObject({{"error", error}}));
    return;
  }
  FinishCommand(**result, req.command_id);
}

Status PrinterSession::FinishCommand(const CommandResult& result,
                                     std::optional<int64_t> command_id) {
  EventFields f;
  f.reason = result.reason;
  f.state = result.state;
  f.job_id = result.job_id;
  f.transfer_id = result.transfer_id;
  f.dialog_id = result.dialog_id;
  return EndCommand(command_id, result.event.value_or(Event::FINISHED), result.source, f,
                    result.data);
}

bool PrinterSession::WaitCommandEnded(int64_t command_id, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return !core_.commands().running(command_id); });
}

bool PrinterSession::WaitForCommand(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return core_.commands().pending(); });
}

std::optional<CommandRequest> PrinterSession::current_command() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.commands().current();
}

Event PrinterSession::last_command_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.commands().last_state();
}

CommandHandler PrinterSession::BuiltinHandler(Command c) {
  switch (c) {
    case Command::SEND_INFO:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        CommandResult r;
        r.event = Event::INFO;
        r.data = get_info();
        return r;
      };
    case Command::SEND_STATE_INFO:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        CommandResult r;
        r.event = Event::STATE_CHANGED;
        r.state = state();
        return r;
      };
    case Command::SET_PRINTER_READY:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        State s = state();
        if (s == State::PRINTING || s == State::PAUSED) {
          return FailedPreconditionError(std::string("Can't set ready while ") + ToString(s));
        }
        set_state(State::READY, Source::CONNECT, true, {}, Json());
        return CommandResult{};
      };
    case Command::CANCEL_PRINTER_READY:
      return [this](const CommandRequest&) -> StatusOr<CommandResult> {
        if (!ready()) return FailedPreconditionError("Can't cancel, printer isn't ready");
        set_state(State::IDLE, Source::CONNECT, false, {}, Json());
        return CommandResult{};
      };
    case Command::DIALOG_ACTION:
      return [](const CommandRequest& req) -> StatusOr<CommandResult> {
        if (!req.kwargs.truthy()) {
          return InvalidArgumentError("Command.DIALOG_ACTION requires kwargs");
        }
        return CommandResult{};
      };
    default:
      return nullptr;
  }
}

void PrinterSession::HandlerTable::Set(Command c, CommandHandler handler) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first != c) continue;
    if (handler) {
      it->second = std::move(handler);
    } else {
      entries_.erase(it);
    }
    return;
  }
  if (handler) entries_.emplace_back(c, std::move(handler));
}

void PrinterSession::set_handler(Command command, CommandHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_.Set(command, std::move(handler));
}

void PrinterSession::SetDefaultHandler(Command command, CommandHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  default_handlers_.Set(command, std::move(handler));
}

void PrinterSession::set_stop_cb(std::function<void()> cb) {
  std::lock_guard<std::mutex> lock(mu_);
  stop_cb_ = std::move(cb);
}

// ---------------------------------------------------------------- host side

std::optional<PrinterType> PrinterSession::type() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.info().type;
}
std::string PrinterSession::sn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.info().sn;
}
std::string PrinterSession::fingerprint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.info().fingerprint;
}

Status PrinterSession::set_type(PrinterType type) {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.info().SetType(type);
}
Status PrinterSession::set_sn(const std::string& sn) {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.info().SetSn(sn);
}
Status PrinterSession::set_fingerprint(const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.info().SetFingerprint(fingerprint);
}

bool PrinterSession::is_initialised() {
  SessionGuard guard(this);
  return core_.IsInitialised();
}

// NOLINTBEGIN(bugprone-macro-parentheses): `type` is a type.
#define PC_INFO_FIELD(setter, getter, field, type)    \
  void PrinterSession::setter(type v) {               \
    std::lock_guard<std::mutex> lock(mu_);            \
    core_.info().field = v;                           \
  }                                                   \
  std::decay_t<type> PrinterSession::getter() const { \
    std::lock_guard<std::mutex> lock(mu_);            \
    return core_.info().field;                        \
  }
PC_INFO_FIELD(set_firmware, firmware, firmware, const std::string&)
PC_INFO_FIELD(set_software, software, software, const std::string&)
PC_INFO_FIELD(set_network_info, network_info, network_info, const NetworkInfo&)
#undef PC_INFO_FIELD
// NOLINTEND(bugprone-macro-parentheses)

void PrinterSession::set_api_key(const std::string& v) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().api_key = v;
}
void PrinterSession::set_active_sheet(std::optional<int> v) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().active_sheet = v;
}
void PrinterSession::set_info_extra(const Json& extra) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().extra = extra;
}

void PrinterSession::set_mbl(const std::vector<double>& v) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().mbl = v;
  core_.info().has_mbl = true;
}

void PrinterSession::set_sheet_settings(const std::vector<SheetSettings>& v) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().sheets = v;
  core_.info().has_sheets = true;
}

void PrinterSession::clear_mbl() {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().mbl.clear();
  core_.info().has_mbl = false;
}

void PrinterSession::clear_sheet_settings() {
  std::lock_guard<std::mutex> lock(mu_);
  core_.info().sheets.clear();
  core_.info().has_sheets = false;
}

void PrinterSession::set_mmu(bool enabled, const std::string& fw, std::optional<MMUType> type) {
  std::lock_guard<std::mutex> lock(mu_);
  PrinterInfo& info = core_.info();
  info.mmu_enabled = enabled;
  info.mmu_fw = fw;
  info.mmu_type = type;
}

void PrinterSession::set_files_provider(std::function<Json()> provider) {
  std::lock_guard<std::mutex> lock(mu_);
  files_provider_ = std::move(provider);
  files_writer_ = nullptr;  // a writer of the former provider's tree
}

void PrinterSession::set_files_writer(std::function<void(std::string*)> writer) {
  std::lock_guard<std::mutex> lock(mu_);
  files_writer_ = std::move(writer);
}

Json PrinterSession::get_info() const {
  InfoInput in;
  std::function<Json()> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in = core_.InfoInputNow();
    files = files_provider_;
  }
  in.files = files ? files() : EmptyLegacyTree();
  return BuildInfo(std::move(in));
}

std::string PrinterSession::InfoEventHead() const {
  InfoInput in;
  std::function<Json()> files;
  std::function<void(std::string*)> writer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in = core_.InfoInputNow();
    files = files_provider_;
    writer = files_writer_;
  }
  // Without a writer the tree comes as Json; with one, a placeholder object
  // stands in its place and the writer writes the text there (outside the
  // session lock, straight into the body).
  in.files = writer ? Json::MakeObject() : files ? files() : EmptyLegacyTree();
  Json info = BuildInfo(std::move(in));
  std::string head;
  head.reserve(info_size_hint_.load(std::memory_order_relaxed) + 1024);
  if (writer) {
    JsonSplice splice{info.find("files"), writer};
    AppendEventHead(Event::INFO, Source::CONNECT, info, &splice, &head);
  } else {
    AppendEventHead(Event::INFO, Source::CONNECT, info, nullptr, &head);
  }
  info_size_hint_.store(head.size(), std::memory_order_relaxed);
  return head;
}

void PrinterSession::set_connection(const std::string& server, const std::string& token) {
  SessionGuard guard(this);
  core_.SetConnection(server, token);
}

std::string PrinterSession::server() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.server();
}
std::string PrinterSession::token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.token();
}
std::string PrinterSession::code() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.code();
}

RegistrationStatus PrinterSession::registration_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.registration_status();
}

void PrinterSession::set_register_handler(std::function<void(const std::string&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  register_handler_ = std::move(handler);
}

State PrinterSession::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.state();
}
bool PrinterSession::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.ready();
}

void PrinterSession::set_state(State state, Source source, std::optional<bool> ready,
                               const EventFields& fields, const Json& data) {
  SessionGuard guard(this);
  core_.SetState(state, source, ready, fields, data);
}

void PrinterSession::event_cb(Event event, Source source, const EventFields& fields,
                              const Json& data) {
  SessionGuard guard(this);
  core_.Emit(event, source, fields, data);
}

void PrinterSession::telemetry(const Json& fields, std::optional<double> timestamp) {
  SessionGuard guard(this);
  core_.Telemetry(fields, timestamp);
}

std::optional<int64_t> PrinterSession::job_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.job_id();
}
void PrinterSession::set_job_id(std::optional<int64_t> job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.set_job_id(job_id);
}

void PrinterSession::SetTransferProbe(std::function<std::optional<TransferStatus>()> probe) {
  std::lock_guard<std::mutex> lock(mu_);
  core_.set_transfer_probe(std::move(probe));
}

bool PrinterSession::Flush(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return core_.events_buffered() == 0; });
}

PrinterStats PrinterSession::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return core_.stats();
}

}  // namespace prusaconnect::internal
