// Copyright 2026 The libprusaconnect Authors.
#include "bridge.h"

#include <prusaconnect/util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <utility>

#include "adapter_log.h"
#include "cameras.h"
#include "host_http.h"
#include "qr_terminal.h"

namespace bridge {

namespace pc = prusaconnect;
using octoprint_adapter::LogError;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogScope;
using octoprint_adapter::LogWarning;

namespace {

constexpr int64_t kSuperviseMs = 2000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string PrinterStateDir(const BridgeConfig& config, const std::string& name) {
  std::string dir = config.state_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" + name;
}

PrinterRunner::PrinterRunner(Bridge* bridge, PrinterEntry entry)
    : bridge_(bridge),
      entry_(std::move(entry)),
      state_(PrinterStateDir(bridge->config(), entry_.name)) {}

PrinterRunner::~PrinterRunner() { Stop(); }

void PrinterRunner::Start() {
  supervise_ = std::make_unique<hostio::Periodic>(bridge_->scheduler(), [this] {
    LogScope scope(entry_.name);
    return Supervise();
  });
  supervise_->Start();
}

void PrinterRunner::Stop() {
  if (supervise_) supervise_->Stop();
  // The status API reads printer_ and driver_ under mu_ while started_:
  // take them out first, stop them outside the lock (their callbacks take it).
  std::unique_ptr<HostDriver> driver;
  std::unique_ptr<pc::Printer> printer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = false;
    driver = std::move(driver_);
    printer = std::move(printer_);
  }
  if (driver) driver->Stop();
  if (printer) {
    printer->flush(2000);
    printer->stop();
  }
  driver.reset();
  printer.reset();
  bridge_->hub()->Forget(entry_.name);
  if (!serial_claimed_.empty()) bridge_->ReleaseSerial(serial_claimed_, entry_.name);
  serial_claimed_.clear();
}

pc::Json PrinterRunner::Describe() const {
  pc::Json j = pc::Json::MakeObject();
  j.set("name", entry_.name);
  j.set("host", entry_.host);
  j.set("url", hostio::UrlWithoutCredentials(entry_.url));
  std::optional<PrinterReport> report = bridge_->hub()->Last(entry_.name);
  std::shared_ptr<const Image> image = bridge_->hub()->LastImage(entry_.name);
  std::lock_guard<std::mutex> lock(mu_);
  j.set("running", started_);
  j.set("state", pc::Json());
  j.set("reason", "");
  j.set("temperatures", pc::Json::MakeObject({{"nozzle", pc::Json()},
                                              {"target_nozzle", pc::Json()},
                                              {"bed", pc::Json()},
                                              {"target_bed", pc::Json()}}));
  j.set("job", pc::Json());
  j.set("last_error", pc::Json());
  // The same keys whether or not the printer runs yet.
  j.set("serial", pc::Json());
  j.set("model", pc::Json());
  j.set("registration",
        pc::Json::MakeObject(
            {{"registered", false}, {"code", pc::Json()}, {"url", pc::Json()}, {"qr", false}}));
  j.set("connect", pc::Json());
  j.set("supported_commands", pc::Json());
  j.set("stats", pc::Json());
  j.set("image", pc::Json());
  if (!started_) {
    j.set("host_status", setup_failures_ > 0 ? "not started (see the log)" : "starting");
    return j;
  }
  j.set("serial", identity_.serial);
  j.set("state", pc::ToString(printer_->state()));
  if (report) ReportToJson(*report, &j);
  j.set("host_status", driver_->HostStatus());
  j.set("supported_commands", pc::ToJson(printer_->supported_commands()));
  if (std::string model = driver_->Model(); !model.empty()) j.set("model", model);
  pc::Json reg = pc::Json::MakeObject();
  // The library holds the token a moment before the register handler
  // clears the code: a registered printer never shows a code.
  const bool registered = !printer_->token().empty();
  const bool show_code = !registered && !code_.empty();
  reg.set("registered", registered);
  reg.set("code", show_code ? pc::Json(code_) : pc::Json());
  reg.set("url", show_code && !code_url_.empty() ? pc::Json(code_url_) : pc::Json());
  reg.set("qr", show_code && !code_url_.empty() && !octoprint_adapter::QrSvg("x").empty());
  j.set("registration", std::move(reg));
  pc::Json connect = pc::Json::MakeObject();
  connect.set("server", printer_->server());
  pc::Conditions& c = printer_->conditions();
  pc::Json conditions = pc::Json::MakeObject();
  for (const pc::Condition* cond : {&c.INTERNET, &c.HTTP, &c.TOKEN, &c.API}) {
    conditions.set(cond->name(), pc::CondStateName(cond->state()));
  }
  connect.set("conditions", std::move(conditions));
  connect.set("problem", c.API.state() == pc::CondState::kNok
                             ? pc::Json(octoprint_adapter::ConnectProblem(c.API))
                             : pc::Json());
  j.set("connect", std::move(connect));
  pc::PrinterStats st = printer_->stats();
  j.set("stats", pc::Json::MakeObject(
                     {{"telemetry_sent", st.telemetry_sent},
                      {"events_sent", st.events_sent},
                      {"events_dropped", st.events_dropped_overflow + st.events_dropped_rejected},
                      {"events_buffered", st.events_buffered}}));
  if (image) {
    j.set("image", pc::Json::MakeObject({{"url", "/api/printer/" + entry_.name + "/image"},
                                         {"time", image->time},
                                         {"camera", image->camera_id}}));
  } else {
    j.set("image", pc::Json());
  }
  return j;
}

void PrinterRunner::TriggerPhoto() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ && !printer_->cameras().camera_ids().empty()) {
    (void)printer_->cameras().trigger_manual();
  }
}

void PrinterRunner::AppendMetrics(std::map<std::string, std::string>* m) const {
  std::optional<PrinterReport> report = bridge_->hub()->Last(entry_.name);
  std::string label = "printer=\"" + entry_.name + "\"";
  std::lock_guard<std::mutex> lock(mu_);
  bool fresh = report && std::time(nullptr) - report->time < 30;
  (*m)["prusaconnect_bridge_printer_up"] += "prusaconnect_bridge_printer_up{" + label + ",host=\"" +
                                            entry_.host + "\"} " + (started_ && fresh ? "1" : "0") +
                                            "\n";
  if (!started_) return;
  pc::State now = report ? report->reported.state : printer_->state();
  for (pc::State s : {pc::State::IDLE, pc::State::BUSY, pc::State::PRINTING, pc::State::PAUSED,
                      pc::State::FINISHED, pc::State::STOPPED, pc::State::ERROR,
                      pc::State::ATTENTION, pc::State::READY}) {
    (*m)["prusaconnect_bridge_printer_state"] += "prusaconnect_bridge_printer_state{" + label +
                                                 ",state=\"" + pc::ToString(s) + "\"} " +
                                                 (s == now ? "1" : "0") + "\n";
  }
  (*m)["prusaconnect_bridge_printer_registered"] += "prusaconnect_bridge_printer_registered{" +
                                                    label + "} " +
                                                    (printer_->token().empty() ? "0" : "1") + "\n";
  pc::PrinterStats st = printer_->stats();
  (*m)["prusaconnect_bridge_telemetry_sent_total"] += "prusaconnect_bridge_telemetry_sent_total{" +
                                                      label + "} " +
                                                      std::to_string(st.telemetry_sent) + "\n";
  (*m)["prusaconnect_bridge_events_sent_total"] += "prusaconnect_bridge_events_sent_total{" +
                                                   label + "} " + std::to_string(st.events_sent) +
                                                   "\n";
  (*m)["prusaconnect_bridge_events_dropped_total"] +=
      "prusaconnect_bridge_events_dropped_total{" + label + ",reason=\"overflow\"} " +
      std::to_string(st.events_dropped_overflow) + "\n" +
      "prusaconnect_bridge_events_dropped_total{" + label + ",reason=\"rejected\"} " +
      std::to_string(st.events_dropped_rejected) + "\n";
  pc::Conditions& c = printer_->conditions();
  for (const pc::Condition* cond : {&c.INTERNET, &c.HTTP, &c.TOKEN, &c.API}) {
    if (cond->state() == pc::CondState::kUnknown) continue;
    (*m)["prusaconnect_bridge_condition_ok"] +=
        "prusaconnect_bridge_condition_ok{" + label + ",condition=\"" + cond->name() + "\"} " +
        (cond->state() == pc::CondState::kOk ? "1" : "0") + "\n";
  }
  for (const pc::CameraStatus& cs : printer_->cameras().statuses()) {
    std::string l = label + ",camera=\"" + cs.id + "\"";
    (*m)["prusaconnect_bridge_camera_snapshots_total"] +=
        "prusaconnect_bridge_camera_snapshots_total{" + l + "} " +
        std::to_string(cs.snapshots_uploaded) + "\n";
    auto r = camera_restarts_.find(cs.id);
    (*m)["prusaconnect_bridge_camera_restarts_total"] +=
        "prusaconnect_bridge_camera_restarts_total{" + l + "} " +
        std::to_string(r == camera_restarts_.end() ? 0 : r->second) + "\n";
  }
  if (report) {
    const pc::Telemetry& t = report->reported.telemetry;
    auto temp = [&](const char* heater, const std::optional<double>& v) {
      if (!v) return;
      (*m)["prusaconnect_bridge_temperature_celsius"] +=
          "prusaconnect_bridge_temperature_celsius{" + label + ",heater=\"" + heater + "\"} " +
          pc::Json(*v).Dump() + "\n";
    };
    temp("nozzle", t.temp_nozzle);
    temp("bed", t.temp_bed);
    if (t.progress) {
      (*m)["prusaconnect_bridge_job_progress_percent"] +=
          "prusaconnect_bridge_job_progress_percent{" + label + "} " + std::to_string(*t.progress) +
          "\n";
    }
  }
}

bool PrinterRunner::TokenForgotten() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_ && printer_ != nullptr && !printer_->token().empty() &&
         state_.LoadToken().empty();
}

bool PrinterRunner::Setup() {
  if (pc::Status s = state_.Prepare(); !s.ok()) {
    LogError(s.message());
    return false;
  }
  driver_ = MakeDriver(entry_);
  std::optional<octoprint_adapter::Identity> id = state_.LoadIdentity();
  std::optional<octoprint_adapter::Identity> reprobed;
  // A fallback identity that was never registered is chosen again: the
  // host may know the printer's own serial this time.
  if (id && !id->from_printer() && id->source != "board-serial" && id->source != "bambu-serial" &&
      state_.LoadToken().empty()) {
    reprobed = driver_->ProbeIdentity(bridge_->ws(), bridge_->scheduler());
    if (!reprobed->serial.empty() && reprobed->serial != id->serial &&
        bridge_->ClaimSerial(reprobed->serial, entry_.name)) {
      bridge_->ReleaseSerial(id->serial, entry_.name);
      LogInfo("not registered yet: using the host's serial number " + reprobed->serial +
              " instead of " + id->serial);
      id.reset();
    }
  }
  if (!id) {
    octoprint_adapter::Identity probed =
        reprobed ? *reprobed : driver_->ProbeIdentity(bridge_->ws(), bridge_->scheduler());
    if (!probed.serial.empty() && !bridge_->ClaimSerial(probed.serial, entry_.name)) {
      LogWarning("the host reports serial number " + probed.serial +
                 ", which another printer of this bridge already uses (two printers on one "
                 "host?): using a random one");
      probed = {};
    }
    if (probed.serial.empty()) {
      probed = {octoprint_adapter::RandomUuid(), "random"};
      bridge_->ClaimSerial(probed.serial, entry_.name);
    }
    if (pc::Status s = state_.SaveIdentity(probed); !s.ok()) {
      LogError("cannot store the printer's identity: " + s.message());
      bridge_->ReleaseSerial(probed.serial, entry_.name);
      return false;
    }
    LogInfo("new identity: serial number " + probed.serial + " (from " + probed.source + ")");
    id = probed;
  } else if (!bridge_->ClaimSerial(id->serial, entry_.name)) {
    LogError("serial number " + id->serial + " (" + state_.dir() +
             "/identity) is used by another printer of this bridge: a copied state folder? "
             "This printer is not started; give it its own folder (--reset " +
             entry_.name + " forgets its identity)");
    return false;
  }
  identity_ = *id;
  serial_claimed_ = id->serial;

  pc::PrinterOptions options;
  options.background_handlers = true;
  options.verify_tls = bridge_->config().verify_tls && entry_.verify_tls;
  options.transfer.staging_dir = bridge_->config().staging_dir;
  options.network = bridge_->network();
  printer_ =
      std::make_unique<pc::Printer>(*pc::PrinterType::FromString(entry_.printer_type), id->serial,
                                    pc::FingerprintFromSerial(id->serial), options);
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) {
    pc::NetworkInfo net;
    net.hostname = host;
    printer_->set_network_info(net);
  }
  std::string token = state_.LoadToken();
  printer_->set_connection(bridge_->config().connect_server, token);
  std::string name = entry_.name;
  printer_->set_register_handler([this, name](const std::string& t) {
    LogScope scope(name);
    pc::Status s = state_.SaveToken(t);
    std::remove((state_.dir() + "/registration").c_str());
    {
      std::lock_guard<std::mutex> lock(mu_);
      code_.clear();
      code_url_.clear();
    }
    // Logged last: whoever waits for this line sees the state complete.
    if (!s.ok()) {
      LogError("registered, but the token could not be stored: " + s.message());
    } else {
      LogInfo("registered: the token is stored in " + state_.dir() + "/token");
    }
  });
  StoreCameraTokens(printer_.get(), state_.dir(), entry_.name);
  octoprint_adapter::LogConnectHealth(&printer_->conditions(), entry_.name);
  DriverContext context;
  context.entry = entry_;
  context.printer = printer_.get();
  context.state = &state_;
  context.scheduler = bridge_->scheduler();
  context.ws = bridge_->ws();
  // Its thread starts with the first printer that needs it (Bambu).
  context.mqtt = entry_.host == "bambu" ? bridge_->mqtt() : nullptr;
  context.io = entry_.host == "bambu" ? bridge_->io() : bridge_->scheduler();
  StatusHub* hub = bridge_->hub();
  context.on_report = [hub, name](const hostio::Reported& r) { hub->Report(name, r); };
  context.keep_images = [hub, name](const std::string& camera_id,
                                    std::shared_ptr<pc::CameraDriver> inner) {
    return hub->Keeping(name, camera_id, std::move(inner));
  };
  if (pc::Status s = driver_->Start(&context); !s.ok()) {
    LogError("cannot start the " + entry_.host + " driver: " + s.message());
    driver_->Stop();
    driver_.reset();
    printer_.reset();
    bridge_->ReleaseSerial(serial_claimed_, entry_.name);
    serial_claimed_.clear();
    return false;
  }
  // What this printer answers, as data: checked before any handler runs,
  // sent to Connect in SEND_INFO, shown by the status API
  // (docs/commands.md).
  printer_->set_supported_commands(pc::StandardCommandDefinitions(printer_->handled_commands()));
  printer_->start();
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
    had_token_ = !token.empty();
  }
  LogInfo("printer " + id->serial + " (" + entry_.printer_type + ", " + entry_.host +
          (entry_.url.empty() ? "" : " at " + entry_.url) + ") on " + printer_->server() +
          (token.empty() ? ": not registered yet" : ""));
  return true;
}

void PrinterRunner::Register() {
  if (!printer_->token().empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!code_.empty() &&
        printer_->registration_status() != pc::RegistrationStatus::NO_REGISTRATION) {
      return;  // waiting for the user
    }
    if (!code_.empty()) {
      LogWarning("the registration code " + code_ + " expired; asking for a new one");
      code_.clear();
      code_url_.clear();
    }
    if (SteadyMs() < next_register_ms_) return;
  }
  pc::StatusOr<std::string> code = printer_->register_printer();
  std::lock_guard<std::mutex> lock(mu_);
  if (!code.ok()) {
    LogError("cannot register with Prusa Connect at " + bridge_->config().connect_server + ": " +
             code.status().message() + "; retrying in " +
             std::to_string(register_backoff_ms_ / 1000) + " s");
    next_register_ms_ = SteadyMs() + register_backoff_ms_;
    register_backoff_ms_ = std::min<int64_t>(register_backoff_ms_ * 2, 60000);
    return;
  }
  register_backoff_ms_ = 2000;
  code_ = *code;
  pc::PrinterType type = *printer_->type();
  std::string url = bridge_->config().connect_server + "/add-printer/connect/" +
                    std::to_string(type.type()) + "." + std::to_string(type.version()) + "/" +
                    code_;
  code_url_ = url;
  pc::Status s = octoprint_adapter::WriteFileAtomic(state_.dir() + "/registration",
                                                    "code=" + code_ + "\nurl=" + url + "\n", 0600);
  if (!s.ok()) LogWarning("cannot write the registration file: " + s.message());
  LogInfo("not registered: open " + url + " (or add a printer in Connect with the code " + code_ +
          "; `prusaconnect-bridge register " + entry_.name + "` shows a QR code)");
}

void PrinterRunner::WriteStatus() {
  pc::Json j = pc::Json::MakeObject();
  j.set("name", entry_.name);
  j.set("host", entry_.host);
  j.set("url", entry_.url);
  j.set("updated", static_cast<int64_t>(std::time(nullptr)));
  std::lock_guard<std::mutex> lock(mu_);
  j.set("running", started_);
  if (started_) {
    j.set("serial", identity_.serial);
    j.set("serial_source", identity_.source);
    j.set("state", pc::ToString(printer_->state()));
    const bool registered = !printer_->token().empty();
    j.set("registered", registered);
    if (!registered && !code_.empty()) j.set("code", code_);
    j.set("host_status", driver_->HostStatus());
    pc::Conditions& c = printer_->conditions();
    pc::Json conditions = pc::Json::MakeObject();
    for (const pc::Condition* cond : {&c.INTERNET, &c.HTTP, &c.TOKEN, &c.API}) {
      conditions.set(cond->name(), pc::CondStateName(cond->state()));
    }
    j.set("conditions", conditions);
    if (c.API.state() == pc::CondState::kNok) {
      j.set("connect_problem", octoprint_adapter::ConnectProblem(c.API));
    }
  } else {
    j.set("host_status", setup_failures_ > 0 ? "not started (see the log)" : "starting");
  }
  (void)octoprint_adapter::WriteFileAtomic(state_.dir() + "/status.json", j.Dump() + "\n", 0600);
}

int64_t PrinterRunner::Supervise() {
  bool started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started = started_;
  }
  if (!started) {
    if (!Setup()) {
      int64_t delay;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++setup_failures_;
        delay = std::min<int64_t>(int64_t{5000} << std::min(setup_failures_, 6), 300000);
      }
      if (state_.Prepare().ok()) WriteStatus();
      return delay;
    }
  }
  Register();
  SyncCameras();
  WriteStatus();
  return kSuperviseMs;
}

bool PrinterRunner::AddConfiguredCamera(const CameraEntry& c) {
  pc::CameraConfig config;
  config.id = c.name;
  config.name = c.name;
  config.driver = bridge_->hub()->Keeping(entry_.name, c.name, MakeSourceDriver(c));
  config.trigger_scheme = CameraTriggerFromName(c.trigger).value_or(pc::TriggerScheme::THIRTY_SEC);
  pc::Status s = AddStoredCamera(printer_.get(), state_.dir(), config);
  if (!s.ok()) {
    if (camera_failed_[c.name] != s.message()) {
      LogWarning("camera " + c.name + " is not in Connect yet: " + s.message() + "; trying again");
      camera_failed_[c.name] = s.message();
    }
    return false;
  }
  camera_failed_.erase(c.name);
  camera_added_[c.name] = static_cast<double>(std::time(nullptr));
  return true;
}

void PrinterRunner::SyncCameras() {
  if (entry_.camera_entries.empty() || printer_->token().empty()) return;
  double now = static_cast<double>(std::time(nullptr));
  for (const CameraEntry& c : entry_.camera_entries) {
    auto added = camera_added_.find(c.name);
    if (added == camera_added_.end()) {
      if (AddConfiguredCamera(c)) {
        LogInfo("camera " + c.name + " (" + c.source + ") is a Connect camera of this printer");
      }
      continue;
    }
    if (c.watchdog_s <= 0) continue;
    pc::StatusOr<pc::CameraStatus> st = printer_->cameras().status(c.name);
    if (!st.ok()) continue;
    bool failing = st->state == pc::CameraState::STUCK || st->state == pc::CameraState::RETRYING;
    double good = std::max(st->last_upload_time, added->second);
    if (!failing || now - good < static_cast<double>(c.watchdog_s)) continue;
    // No image for watchdog_s while failing: a new driver (a hung command
    // is killed by the library's timeout, a stuck call left behind).
    LogWarning("camera " + c.name + " gave no image for " +
               std::to_string(static_cast<int64_t>(now - good)) + " s (" + st->last_error +
               "); restarting it");
    (void)printer_->cameras().remove_camera(c.name);
    camera_added_.erase(added);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++camera_restarts_[c.name];
    }
    if (AddConfiguredCamera(c)) LogInfo("camera " + c.name + " restarted");
  }
}

Bridge::Bridge(BridgeConfig config) : config_(std::move(config)) {}

Bridge::~Bridge() { Stop(); }

pc::Status Bridge::Start() {
  // The state folder itself (its parents must exist): 0700, the tokens are
  // below.
  if (mkdir(config_.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return pc::FailedPreconditionError("cannot create the state folder " + config_.state_dir +
                                       ": " + octoprint_adapter::ErrnoText(errno) +
                                       " (set [bridge] state_dir)");
  }
  if (pc::Status s = ws_.Start(); !s.ok()) return s;
  scheduler_ = std::make_unique<hostio::Scheduler>(config_.workers);
  network_ = pc::Network::Default();
  std::lock_guard<std::mutex> lock(mu_);
  for (const PrinterEntry& e : config_.printers) ClaimStoredLocked(e);
  for (const PrinterEntry& e : config_.printers) {
    auto runner = std::make_unique<PrinterRunner>(this, e);
    runner->Start();
    printers_[e.name] = std::move(runner);
  }
  StartStandaloneCameras();
  notifier_ = std::make_unique<Notifier>(&hub_, config_.notify, [this](const std::string& name) {
    std::lock_guard<std::mutex> guard(mu_);
    auto it = printers_.find(name);
    if (it != printers_.end()) it->second->TriggerPhoto();
  });
  Notifier* notifier = notifier_.get();
  hub_.AddListener([notifier](const HubEvent& e) { notifier->OnEvent(e); });
  notifier_->Start();
  if (!config_.notify.empty()) {
    LogInfo("notifications: " + std::to_string(config_.notify.size()) + " channel(s)");
  }
  if (!config_.api_listen.empty()) {
    StatusApiOptions o;
    o.listen = config_.api_listen;
    o.token = config_.api_token;
    o.rate_per_second = config_.api_rate_limit;
    api_ = std::make_unique<StatusApi>(this, o);
    if (pc::Status s = api_->Start(); !s.ok()) {
      // The printers still go to Connect; only the local view is missing.
      LogError("no status API: " + s.message());
      api_.reset();
    } else {
      (void)octoprint_adapter::WriteFileAtomic(config_.state_dir + "/api-url", api_->url() + "\n",
                                               0600);
    }
  }
  return pc::Status::OK();
}

void Bridge::StartStandaloneCameras() {
  if (config_.cameras.empty()) return;
  std::string dir = config_.state_dir + "/.cameras";
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    LogError("cannot create " + dir + ": " + octoprint_adapter::ErrnoText(errno) +
             "; no standalone cameras");
    return;
  }
  pc::PrinterOptions options;
  options.verify_tls = config_.verify_tls;
  options.network = network_;
  const std::string serial = "prusaconnect-bridge-standalone-cameras";
  standalone_ = std::make_unique<pc::Printer>(*pc::PrinterType::FromString("I3MK3S"), serial,
                                              pc::FingerprintFromSerial(serial), options);
  standalone_->set_connection(config_.connect_server, "");
  standalone_->cameras().set_upload_policy(pc::UploadPolicy::ALWAYS);
  standalone_->cameras().set_token_cb(
      [](const std::string& id, const std::string&, const std::string& token) {
        if (!token.empty()) return;
        LogError("camera " + id +
                 ": Prusa Connect refused its token; make a new one (Connect: a printer > "
                 "Cameras > Add another camera), put it in the config and reload");
      });
  for (const CameraEntry& c : config_.cameras) {
    // The fingerprint Connect binds at the first snapshot: random, kept.
    std::string path = dir + "/" + c.name;
    std::string fingerprint;
    {
      std::ifstream in(path);
      std::getline(in, fingerprint);
    }
    if (fingerprint.size() < 16) {
      fingerprint = octoprint_adapter::RandomUuid();
      fingerprint.erase(std::remove(fingerprint.begin(), fingerprint.end(), '-'),
                        fingerprint.end());
      if (pc::Status s = octoprint_adapter::WriteFileAtomic(path, fingerprint + "\n", 0600);
          !s.ok()) {
        LogError("camera " + c.name + ": cannot store its fingerprint: " + s.message());
        continue;
      }
    }
    pc::CameraConfig config;
    config.id = c.name;
    config.name = c.name;
    config.token = c.token;
    config.fingerprint = fingerprint;
    config.driver = hub_.Keeping("camera:" + c.name, c.name, MakeSourceDriver(c));
    config.trigger_scheme = CameraTriggerFromName(c.trigger).value_or(pc::TriggerScheme::TEN_SEC);
    if (pc::Status s = standalone_->cameras().add_camera(config); !s.ok()) {
      LogError("camera " + c.name + ": " + s.message());
      continue;
    }
    LogInfo("standalone camera " + c.name + " (" + c.source + ") sends to Prusa Connect");
  }
}

pc::Json Bridge::Printers() const {
  std::lock_guard<std::mutex> lock(mu_);
  pc::Json list = pc::Json::MakeArray();
  for (const PrinterEntry& e : config_.printers) {
    auto it = printers_.find(e.name);
    if (it != printers_.end()) list.push_back(it->second->Describe());
  }
  return pc::Json::MakeObject({{"printers", std::move(list)}});
}

std::optional<pc::Json> Bridge::Printer(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = printers_.find(name);
  if (it == printers_.end()) return std::nullopt;
  return it->second->Describe();
}

std::string Bridge::PrinterMetrics() const {
  static const std::pair<const char*, const char*> kHelp[] = {
      {"prusaconnect_bridge_printer_up", "gauge|The printer runs and its host reported in 30 s."},
      {"prusaconnect_bridge_printer_state", "gauge|The state Connect was told (1: current)."},
      {"prusaconnect_bridge_printer_registered", "gauge|The printer has a Connect token."},
      {"prusaconnect_bridge_telemetry_sent_total", "counter|Telemetry samples Connect took."},
      {"prusaconnect_bridge_events_sent_total", "counter|Events Connect acknowledged."},
      {"prusaconnect_bridge_events_dropped_total",
       "counter|Events dropped (buffer full, refused)."},
      {"prusaconnect_bridge_condition_ok", "gauge|Link conditions to Connect (1: OK, 0: broken)."},
      {"prusaconnect_bridge_temperature_celsius", "gauge|Heater temperatures."},
      {"prusaconnect_bridge_job_progress_percent", "gauge|Progress of the running job."},
      {"prusaconnect_bridge_camera_snapshots_total", "counter|Camera images Connect took."},
      {"prusaconnect_bridge_camera_restarts_total", "counter|Cameras restarted by the watchdog."},
  };
  std::map<std::string, std::string> by_metric;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const PrinterEntry& e : config_.printers) {
      auto it = printers_.find(e.name);
      if (it != printers_.end()) it->second->AppendMetrics(&by_metric);
    }
  }
  std::string out = notifier_ ? notifier_->Metrics() : std::string();
  for (const auto& h : kHelp) {
    std::string help = h.second;
    size_t bar = help.find('|');
    out += std::string("# HELP ") + h.first + " " + help.substr(bar + 1) + "\n";
    out += std::string("# TYPE ") + h.first + " " + help.substr(0, bar) + "\n";
    out += by_metric[h.first];
  }
  return out;
}

void Bridge::Reload(const BridgeConfig& next) {
  if (next.connect_server != config_.connect_server || next.state_dir != config_.state_dir ||
      next.workers != config_.workers || next.verify_tls != config_.verify_tls ||
      next.staging_dir != config_.staging_dir || next.api_listen != config_.api_listen ||
      next.api_token != config_.api_token || next.api_rate_limit != config_.api_rate_limit) {
    // A new api_token too: restart the bridge to make an old one useless.
    LogWarning("reload: [bridge] settings changed; they take effect at the next restart");
  }
  std::map<std::string, const PrinterEntry*> wanted;
  for (const PrinterEntry& e : next.printers) wanted[e.name] = &e;
  std::vector<std::unique_ptr<PrinterRunner>> stopping;
  std::vector<const PrinterEntry*> starting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = printers_.begin(); it != printers_.end();) {
      auto w = wanted.find(it->first);
      if (w == wanted.end()) {
        LogInfo("reload: printer " + it->first + " removed: stopping it");
        stopping.push_back(std::move(it->second));
        it = printers_.erase(it);
      } else if (*w->second != it->second->entry()) {
        LogInfo("reload: printer " + it->first + " changed: restarting it");
        stopping.push_back(std::move(it->second));
        starting.push_back(w->second);
        it = printers_.erase(it);
      } else if (it->second->TokenForgotten()) {
        LogInfo("reload: printer " + it->first + " lost its token (--reset): registering anew");
        stopping.push_back(std::move(it->second));
        starting.push_back(w->second);
        it = printers_.erase(it);
      } else {
        ++it;
      }
    }
    for (const PrinterEntry& e : next.printers) {
      if (printers_.count(e.name) == 0 &&
          std::find(starting.begin(), starting.end(), &e) == starting.end()) {
        LogInfo("reload: new printer " + e.name + ": starting it");
        starting.push_back(&e);
      }
    }
  }
  for (auto& r : stopping) r->Stop();
  stopping.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const PrinterEntry* e : starting) ClaimStoredLocked(*e);
    for (const PrinterEntry* e : starting) {
      auto runner = std::make_unique<PrinterRunner>(this, *e);
      runner->Start();
      printers_[e->name] = std::move(runner);
    }
    config_.printers = next.printers;
  }
  // Outside mu_: stopping cameras waits for their captures.
  if (next.cameras != config_.cameras) {
    LogInfo("reload: standalone cameras changed: restarting them");
    standalone_.reset();
    config_.cameras = next.cameras;
    StartStandaloneCameras();
  }
  if (next.notify != config_.notify) {
    LogInfo("reload: notifications: " + std::to_string(next.notify.size()) + " channel(s)");
    config_.notify = next.notify;
    if (notifier_) notifier_->SetChannels(next.notify);
  }
}

void Bridge::Stop() {
  if (api_) {
    api_->Stop();
    std::remove((config_.state_dir + "/api-url").c_str());
  }
  api_.reset();
  if (notifier_) notifier_->Stop();
  standalone_.reset();
  std::map<std::string, std::unique_ptr<PrinterRunner>> printers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    printers.swap(printers_);
  }
  for (auto& p : printers) p.second->Stop();
  printers.clear();
  ws_.Stop();
  mqtt_.Stop();
  if (scheduler_) scheduler_->Stop();
  std::lock_guard<std::mutex> io_lock(io_mu_);
  io_stopped_ = true;
  if (io_) io_->Stop();
}

hostio::Scheduler* Bridge::io() {
  std::lock_guard<std::mutex> lock(io_mu_);
  if (!io_ && !io_stopped_) io_ = std::make_unique<hostio::Scheduler>(2);
  return io_ ? io_.get() : scheduler_.get();
}

bool Bridge::ClaimSerial(const std::string& serial, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = serials_.emplace(serial, name).first;
  return it->second == name;
}

void Bridge::ReleaseSerial(const std::string& serial, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = serials_.find(serial);
  if (it != serials_.end() && it->second == name) serials_.erase(it);
}

void Bridge::ClaimStoredLocked(const PrinterEntry& e) {
  octoprint_adapter::StateDir dir(PrinterStateDir(config_, e.name));
  std::optional<octoprint_adapter::Identity> id = dir.LoadIdentity();
  if (id) serials_.emplace(id->serial, e.name);
}

std::vector<std::string> Bridge::printer_names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& p : printers_) names.push_back(p.first);
  return names;
}

}  // namespace bridge
