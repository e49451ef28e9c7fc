// Copyright 2026 The libprusaconnect Authors.
//
// Printer and Network: thin facades over the printer's session (the
// protocol core behind a lock, printer_session.h) and the transport Engine.
#include "prusaconnect/printer.h"

#include "facade/printer_session.h"
#include "files/commands.h"
#include "transfer/transfer.h"
#include "transport/engine.h"
#include "util/clock.h"
#include "util/ini.h"

namespace prusaconnect {

// ---------------------------------------------------------------- Network

Network::Network(NetworkOptions options) : engine_(std::make_unique<internal::Engine>(options)) {}

Network::~Network() = default;

std::shared_ptr<Network> Network::Default() {
  // Never destroyed: printers with static storage may outlive any ordering.
  static auto* network = new std::shared_ptr<Network>(std::make_shared<Network>());
  return *network;
}

size_t Network::printer_count() const { return engine_->printer_count(); }

// ---------------------------------------------------------------- Printer

namespace {
internal::Engine* EngineOf(const internal::PrinterSession& s) { return s.network()->engine(); }
}  // namespace

Printer::Printer(std::optional<PrinterType> type, const std::string& sn,
                 const std::string& fingerprint, PrinterOptions options) {
  if (!options.network) options.network = Network::Default();
  // The session keeps what it needs of the options; the storages and the
  // transfers keep theirs.
  session_ = std::make_shared<internal::PrinterSession>(type, sn, fingerprint, options,
                                                        internal::RealClock());
  // The storages' events go out as this printer's events (source WUI).
  std::weak_ptr<internal::PrinterSession> weak = session_;
  fs_ = std::make_shared<Filesystem>(
      [weak](Event event, const Json& data) {
        if (auto s = weak.lock()) s->event_cb(event, Source::WUI, {}, data);
      },
      options.files);
  internal::InstallFileCommands(session_.get(), fs_);
  transfers_ =
      std::make_shared<internal::TransferManager>(session_, fs_, std::move(options.transfer));
  internal::InstallTransferCommands(session_.get(), transfers_);
  cameras_ = std::make_unique<CameraController>(session_);
}

Printer::~Printer() {
  session_->StopLoop();
  internal::InstallTransferCommands(session_.get(), nullptr);
  transfers_->Shutdown();
  transfers_.reset();
  EngineOf(*session_)->Detach(session_.get());
  // The file handlers hold the filesystem; let go of them so that its
  // storages are detached (and their watches dropped) now.
  internal::InstallFileCommands(session_.get(), nullptr);
  fs_.reset();
}

std::optional<PrinterType> Printer::type() const { return session_->type(); }
std::string Printer::sn() const { return session_->sn(); }
std::string Printer::fingerprint() const { return session_->fingerprint(); }
Status Printer::set_type(PrinterType type) { return session_->set_type(type); }
Status Printer::set_sn(const std::string& sn) { return session_->set_sn(sn); }
Status Printer::set_fingerprint(const std::string& fp) { return session_->set_fingerprint(fp); }
bool Printer::is_initialised() { return session_->is_initialised(); }

void Printer::set_firmware(const std::string& v) { session_->set_firmware(v); }
std::string Printer::firmware() const { return session_->firmware(); }
void Printer::set_software(const std::string& v) { session_->set_software(v); }
std::string Printer::software() const { return session_->software(); }
void Printer::set_network_info(const NetworkInfo& v) { session_->set_network_info(v); }
NetworkInfo Printer::network_info() const { return session_->network_info(); }
void Printer::set_api_key(const std::string& v) { session_->set_api_key(v); }
void Printer::set_mbl(const std::vector<double>& v) { session_->set_mbl(v); }
void Printer::set_sheet_settings(const std::vector<SheetSettings>& v) {
  session_->set_sheet_settings(v);
}
void Printer::set_active_sheet(std::optional<int> v) { session_->set_active_sheet(v); }
void Printer::set_mmu(bool enabled, const std::string& fw, std::optional<MMUType> type) {
  session_->set_mmu(enabled, fw, type);
}
void Printer::set_info_extra(const Json& extra) { session_->set_info_extra(extra); }
Json Printer::get_info() const { return session_->get_info(); }

void Printer::set_connection(const std::string& server, const std::string& token) {
  session_->set_connection(server, token);
}

Status Printer::connection_from_config(const std::string& path) {
  StatusOr<internal::ConnectSettings> settings = internal::ReadConnectSettings(path);
  if (!settings.ok()) return settings.status();
  set_connection(internal::ConnectUrl(settings->hostname, settings->tls, settings->port),
                 settings->token);
  return Status();
}

std::string Printer::connect_url(const std::string& host, bool tls, int port) {
  return internal::ConnectUrl(host, tls, port);
}

std::string Printer::server() const { return session_->server(); }
std::string Printer::token() const { return session_->token(); }

StatusOr<std::string> Printer::register_printer() {
  StatusOr<internal::HttpRequest> request = session_->MakeRegisterRequest();
  if (!request.ok()) return request.status();
  internal::HttpResponse response = EngineOf(*session_)->Execute(std::move(*request));
  StatusOr<std::string> code = session_->CompleteRegister(response);
  if (code.ok()) start();
  return code;
}

void Printer::set_register_handler(std::function<void(const std::string&)> handler) {
  session_->set_register_handler(std::move(handler));
}
std::string Printer::code() const { return session_->code(); }
RegistrationStatus Printer::registration_status() const { return session_->registration_status(); }

State Printer::state() const { return session_->state(); }
bool Printer::ready() const { return session_->ready(); }
void Printer::set_state(State state, Source source, std::optional<bool> ready,
                        const EventFields& fields, const Json& data) {
  session_->set_state(state, source, ready, fields, data);
}
void Printer::event_cb(Event event, Source source, const EventFields& fields, const Json& data) {
  session_->event_cb(event, source, fields, data);
}
void Printer::telemetry(const Telemetry& t) { session_->telemetry(t.ToJson(), t.timestamp); }
void Printer::telemetry(const Json& fields, std::optional<double> timestamp) {
  session_->telemetry(fields, timestamp);
}
void Printer::clear_mbl() { session_->clear_mbl(); }
void Printer::clear_sheet_settings() { session_->clear_sheet_settings(); }
Event Printer::last_command_state() const { return session_->last_command_state(); }
std::optional<int64_t> Printer::job_id() const { return session_->job_id(); }
void Printer::set_job_id(std::optional<int64_t> job_id) { session_->set_job_id(job_id); }

void Printer::set_handler(Command command, CommandHandler handler) {
  session_->set_handler(command, std::move(handler));
}
void Printer::set_supported_commands(std::vector<CommandDefinition> definitions) {
  session_->set_supported_commands(std::move(definitions));
}
std::vector<Command> Printer::handled_commands() const { return session_->HandledCommands(); }
std::vector<CommandDefinition> Printer::supported_commands() const {
  return session_->supported_commands();
}
void Printer::command() { session_->RunCommand(); }
bool Printer::wait_for_command(int64_t timeout_ms) { return session_->WaitForCommand(timeout_ms); }
std::optional<CommandRequest> Printer::current_command() const {
  return session_->current_command();
}

Status Printer::finish_command(const CommandResult& result, std::optional<int64_t> command_id) {
  return session_->FinishCommand(result, command_id);
}

Status Printer::fail_command(Source source, const std::string& reason, const Json& data,
                             std::optional<int64_t> command_id) {
  EventFields f;
  f.reason = reason;
  return session_->EndCommand(command_id, Event::FAILED, source, f, data);
}

Status Printer::reject_command(Source source, const std::string& reason, const Json& data,
                               std::optional<int64_t> command_id) {
  EventFields f;
  f.reason = reason;
  return session_->EndCommand(command_id, Event::REJECTED, source, f, data);
}

void Printer::set_stop_cb(std::function<void()> stop_cb) {
  session_->set_stop_cb(std::move(stop_cb));
}

Status Printer::attach(const std::string& folder, const std::string& storage) {
  return fs_->Attach(folder, storage);
}
Status Printer::attach_storage(std::shared_ptr<StorageProvider> provider) {
  return fs_->AttachProvider(std::move(provider));
}
Status Printer::detach(const std::string& storage) { return fs_->Detach(storage); }
Filesystem& Printer::fs() { return *fs_; }
void Printer::set_printed_file_cb(std::function<std::string()> cb) {
  fs_->set_printed_file_cb(std::move(cb));
}

void Printer::start() { EngineOf(*session_)->Attach(session_); }
void Printer::stop() { EngineOf(*session_)->Detach(session_.get()); }

void Printer::loop() {
  session_->RunLoop([this] { start(); });
  stop();
}

void Printer::stop_loop() { session_->StopLoop(); }
bool Printer::flush(int64_t timeout_ms) { return session_->Flush(timeout_ms); }

Conditions& Printer::conditions() { return session_->conditions(); }
PrinterStats Printer::stats() const { return session_->stats(); }

void Printer::set_request_observer(RequestObserver observer) {
  session_->SetObserver(std::move(observer));
}

// ---------------------------------------------------------------- Telemetry

Json Telemetry::ToJson() const {
  Json j = Json::MakeObject();
  auto put = [&j](const char* key, const auto& field) {
    if (field) j.set(key, *field);
  };
  put("temp_nozzle", temp_nozzle);
  put("temp_bed", temp_bed);
  put("target_nozzle", target_nozzle);
  put("target_bed", target_bed);
  put("axis_x", axis_x);
  put("axis_y", axis_y);
  put("axis_z", axis_z);
  put("fan_extruder", fan_extruder);
  put("fan_hotend", fan_hotend);
  put("fan_print", fan_print);
  put("speed", speed);
  put("flow", flow);
  put("progress", progress);
  put("time_printing", time_printing);
  put("time_remaining", time_remaining);
  put("filament", filament);
  put("material", material);
  if (extra.is_object()) {
    for (const Json::Member& m : extra.as_object()) {
      if (!j.contains(m.key)) j.set(m.key, m.value);
    }
  }
  return j;
}

// ---- transfers

StatusOr<TransferInfo> Printer::start_download(TransferType type, const std::string& path,
                                               const std::string& url, bool to_print,
                                               bool to_select) {
  if (type != TransferType::FROM_WEB && type != TransferType::FROM_CONNECT) {
    return InvalidArgumentError(std::string("Cannot start a transfer of type ") + ToString(type));
  }
  internal::TransferManager::StartRequest r;
  r.type = type;
  r.path = path;
  r.url = url;
  r.to_print = to_print;
  r.to_select = to_select;
  return transfers_->Start(r);
}

Status Printer::stop_transfer(std::optional<uint32_t> transfer_id) {
  return transfers_->Stop(transfer_id);
}

TransferInfo Printer::transfer_info() const { return transfers_->Info(); }

void Printer::set_download_finished_cb(std::function<void(const TransferInfo&)> cb) {
  transfers_->SetFinishedCb(std::move(cb));
}

void Printer::set_transfer_rate_limit(int64_t bytes_per_second) {
  transfers_->SetRateLimit(bytes_per_second);
}

// ---- cameras ----

CameraController& Printer::cameras() { return *cameras_; }

}  // namespace prusaconnect
