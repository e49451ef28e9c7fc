// Copyright 2026 The libprusaconnect Authors.
#include "bambu_driver.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "adapter_log.h"
#include "commands.h"
#include "state_map.h"

namespace bridge {

namespace pc = prusaconnect;
using hostio::Reject;
using octoprint_adapter::LogDebug;
using octoprint_adapter::LogError;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

namespace {

// Iterating `(p ? *p : kNull).as_array()` walks nothing when p is null.
const pc::Json kNull;

// A connection down for less than this is no state change (the printer
// keeps printing; Wi-Fi blips are common).
constexpr auto kUnreachableGrace = std::chrono::seconds(5);
// The SD card has no change notifications: listed again this often.
constexpr auto kRefreshEvery = std::chrono::minutes(5);
constexpr int kMaxDepth = 8;
// Reports come about once a second: each is told to Connect at once, but
// never more often than this.
constexpr int64_t kMinTelemetryGapMs = 100;

// The models that take `file:///sdcard/…` in project_file; newer ones take
// `ftp:///…` (docs/bambu.md).
bool LegacySdcard(const std::string& serial) {
  for (const char* p : {"00M", "00W", "03W", "01S", "01P", "030", "039"}) {
    if (serial.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "AB:cd:…" or "abcd…" → "abcd…".
std::string NormalFingerprint(const std::string& f) {
  std::string out;
  for (char c : f) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

pc::CommandResult Failed(const std::string& what, const pc::Status& s) {
  LogWarning(what + " failed: " + s.message());
  return hostio::Fail("Bambu printer", what, s);
}

std::string Ext(const std::string& path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return Lower(path.substr(dot));
}

}  // namespace

// The SD card as a Connect storage.
class BambuDriver::Storage : public pc::StorageProvider {
 public:
  Storage(const FtpsClient* ftps, std::string name) : ftps_(ftps), name_(std::move(name)) {}
  std::string name() const override { return name_; }

  pc::StatusOr<pc::Node> List() override {
    pc::Node root;
    root.is_dir = true;
    pc::Status s = ListInto("", &root, 0);
    if (!s.ok()) return s;
    return root;
  }
  pc::Status CreateFolder(const std::string& path) override { return ftps_->MakeDir(path); }
  pc::Status DeleteFile(const std::string& path) override { return ftps_->DeleteFile(path); }
  pc::Status DeleteFolder(const std::string& path, bool force) override {
    if (force) {
      pc::StatusOr<std::vector<FtpEntry>> entries = ftps_->List(path);
      if (!entries.ok()) return entries.status();
      for (const FtpEntry& e : *entries) {
        pc::Status s = e.is_dir ? DeleteFolder(path + "/" + e.name, true)
                                : ftps_->DeleteFile(path + "/" + e.name);
        if (!s.ok()) return s;
      }
    }
    return ftps_->RemoveDir(path);
  }
  bool CanStoreFiles() const override { return true; }
  pc::Status StoreFile(const std::string& path, const std::string& local_file) override {
    return ftps_->Upload(path, local_file);
  }

 private:
  pc::Status ListInto(const std::string& dir, pc::Node* into, int depth) {
    if (depth > kMaxDepth) return pc::Status::OK();
    pc::StatusOr<std::vector<FtpEntry>> entries = ftps_->List(dir);
    if (!entries.ok()) return entries.status();
    for (const FtpEntry& e : *entries) {
      if (e.name.empty() || e.name[0] == '.') continue;
      pc::Node n;
      n.name = e.name;
      n.is_dir = e.is_dir;
      if (!e.is_dir) n.size = e.size;
      n.m_timestamp = e.m_timestamp;
      if (e.is_dir) {
        pc::Status s = ListInto(dir.empty() ? e.name : dir + "/" + e.name, &n, depth + 1);
        if (!s.ok()) return s;
      }
      into->children.push_back(std::move(n));
    }
    return pc::Status::OK();
  }

  const FtpsClient* ftps_;
  std::string name_;
};

BambuDriver::BambuDriver(const PrinterEntry& entry)
    : entry_(entry), model_(BambuModel(entry.serial)) {
  FtpsTarget ftp;
  ftp.host = entry_.address;
  ftp.port = static_cast<int>(entry_.ftps_port);
  ftp.password = entry_.access_code;
  ftp.ca_file = entry_.ca_file;
  ftp.check_certificate = [this](const std::string& fp) { return CheckCertificate("ftps", fp); };
  ftps_ = std::make_unique<FtpsClient>(ftp);
  // Sequence ids of this run start apart from those of Bambu Studio and
  // Handy, which talk to the same printer.
  next_sequence_ = 20000 + static_cast<int64_t>(std::time(nullptr) % 10000) * 10;
}

BambuDriver::~BambuDriver() { Stop(); }

octoprint_adapter::Identity BambuDriver::ProbeIdentity(hostio::WsLoop*, hostio::Scheduler*) {
  // The serial is in the config (the MQTT topics need it).
  return {entry_.serial, "bambu-serial"};
}

std::string BambuDriver::Model() const { return model_.empty() ? "Bambu Lab printer" : model_; }

pc::Status BambuDriver::Start(DriverContext* context) {
  context_ = *context;
  if (context_.mqtt == nullptr) return pc::InternalError("the bridge has no MQTT loop");
  pc::Printer* p = context_.printer;
  storage_ = std::make_shared<Storage>(ftps_.get(), entry_.storage_name);
  reporter_ = std::make_unique<JobReporter>(p, context_.state, entry_.storage_name, "Bambu");
  reporter_->InstallHandlers();
  reporter_->SetReportHook(context_.on_report);
  InstallJobCommands(p, entry_.name,
                     {[this](const pc::CommandRequest& c) { return StartPrint(c); },
                      [this](const char* what) { return JobCommand(what, what); },
                      [this](const pc::CommandRequest& c) { return Gcode(c); }});
  p->set_download_finished_cb([this](const pc::TransferInfo& t) { OnDownloadFinished(t); });
  p->set_software("prusaconnect-bridge (" + Model() + ")");
  p->set_info_extra(pc::Json::MakeObject(
      {{"host", pc::Json::MakeObject(
                    {{"kind", "bambu"}, {"model", Model()}, {"serial", entry_.serial}})}}));
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.unreachable_why =
        "connecting to the printer at " + entry_.address + ":" + std::to_string(entry_.mqtt_port);
    lost_at_ = std::chrono::steady_clock::now() - kUnreachableGrace;
  }
  periodic_ = std::make_unique<hostio::Periodic>(context_.scheduler, [this] {
    octoprint_adapter::LogScope scope(entry_.name);
    return Step();
  });
  hostio::MqttTarget target;
  target.host = entry_.address;
  target.port = static_cast<int>(entry_.mqtt_port);
  target.username = "bblp";
  target.password = entry_.access_code;
  target.client_id = "prusaconnect-" + entry_.serial + "-" + std::to_string(::getpid());
  target.ca_file = entry_.ca_file;
  target.check_certificate = [this](const std::string& fp) { return CheckCertificate("mqtt", fp); };
  target.subscribe = {"device/" + entry_.serial + "/report"};
  // Made before the connection: the MQTT thread wakes it from the first
  // report on.
  files_ = std::make_unique<hostio::Periodic>(context_.io, [this] {
    octoprint_adapter::LogScope scope(entry_.name);
    return FilesStep();
  });
  {
    // Held across Connect: OnConnected (the MQTT thread) finds mqtt_ set.
    // Connect only queues work for that thread, it never calls back.
    std::lock_guard<std::mutex> lock(mu_);
    pc::StatusOr<std::shared_ptr<hostio::MqttClient>> c = context_.mqtt->Connect(target, this);
    if (!c.ok()) return c.status();
    mqtt_ = *c;
  }
  periodic_->Start(200);
  files_->Start(1000);
  return pc::Status::OK();
}

void BambuDriver::Stop() {
  std::shared_ptr<hostio::MqttClient> mqtt;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    mqtt = mqtt_;
  }
  answered_.notify_all();
  if (mqtt) mqtt->Close();
  if (periodic_) periodic_->Stop();
  if (files_) files_->Stop();
}

std::string BambuDriver::HostStatus() const {
  HostSnapshot s = reporter_ ? reporter_->last() : HostSnapshot{};
  std::string out = Model() + " " + HostStateName(s.state);
  if (!s.reason.empty()) out += ": " + s.reason;
  if (s.telemetry.progress) out += ", " + std::to_string(*s.telemetry.progress) + " %";
  const pc::Json* layer = s.telemetry.extra.find("layer");
  const pc::Json* total = s.telemetry.extra.find("total_layers");
  if (layer != nullptr && total != nullptr) {
    out += ", layer " + std::to_string(layer->as_int()) + "/" + std::to_string(total->as_int());
  }
  int64_t ignored = ignored_.load();
  if (ignored > 0) out += " (" + std::to_string(ignored) + " messages ignored)";
  return out;
}

bool BambuDriver::CheckCertificate(const char* service, const std::string& sha256) {
  octoprint_adapter::LogScope scope(entry_.name);
  std::lock_guard<std::mutex> lock(pin_mu_);
  if (!entry_.fingerprint.empty()) {
    if (NormalFingerprint(entry_.fingerprint) == sha256) return true;
    LogError(std::string("the printer's ") + service + " certificate (SHA-256 " + sha256 +
             ") is not the one `fingerprint` pins in the config: not connecting");
    return false;
  }
  const std::string file = context_.state->dir() + "/pinned-certificates";
  if (!pins_loaded_) {
    pins_loaded_ = true;
    std::ifstream in(file);
    std::string name, value;
    while (in >> name >> value) pins_[name] = NormalFingerprint(value);
  }
  auto it = pins_.find(service);
  if (it == pins_.end()) {
    pins_[service] = sha256;
    std::string text;
    for (const auto& p : pins_) text += p.first + " " + p.second + "\n";
    pc::Status s = octoprint_adapter::WriteFileAtomic(file, text, 0600);
    if (!s.ok()) LogWarning("cannot store the pinned certificate: " + s.message());
    LogInfo(std::string("first connection: pinned the printer's ") + service +
            " certificate, SHA-256 " + sha256 + " (in " + file + ")");
    return true;
  }
  if (it->second == sha256) return true;
  LogError(std::string("the printer's ") + service + " certificate changed: pinned SHA-256 " +
           it->second + ", now " + sha256 +
           ". Not connecting: someone may be impersonating the printer. If the printer was "
           "replaced or reset, delete " +
           file + " and reload the bridge to pin the new certificate.");
  return false;
}

void BambuDriver::OnConnected() {
  octoprint_adapter::LogScope scope(entry_.name);
  std::shared_ptr<hostio::MqttClient> mqtt;
  int64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.connected = true;
    view_.reported = false;
    view_.unreachable_why.clear();
    ++news_;
    mqtt = mqtt_;
    seq = next_sequence_++;
    last_logged_.clear();
  }
  LogInfo("connected to " + Model() + " " + entry_.serial + " at " + entry_.address + ":" +
          std::to_string(entry_.mqtt_port));
  // The card may have changed meanwhile (it has no change notifications).
  if (files_) files_->Wake();
  // The whole state (P1 and A1 printers only send changes after this).
  pc::Json pushall =
      pc::Json::MakeObject({{"pushing", pc::Json::MakeObject({{"sequence_id", std::to_string(seq)},
                                                              {"command", "pushall"},
                                                              {"version", 1},
                                                              {"push_target", 1}})}});
  pc::Json version =
      pc::Json::MakeObject({{"info", pc::Json::MakeObject({{"sequence_id", std::to_string(seq + 1)},
                                                           {"command", "get_version"}})}});
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_sequence_++;
  }
  const std::string topic = "device/" + entry_.serial + "/request";
  if (mqtt) {
    (void)mqtt->Publish(topic, pushall.Dump());
    (void)mqtt->Publish(topic, version.Dump());
  }
  if (periodic_) periodic_->Wake();
}

void BambuDriver::OnMessage(const std::string& topic, const std::string& payload) {
  octoprint_adapter::LogScope scope(entry_.name);
  if (topic != "device/" + entry_.serial + "/report") return;
  pc::StatusOr<pc::Json> parsed = pc::Json::Parse(payload);
  if (!parsed.ok() || !parsed->is_object()) {
    int64_t n = ++ignored_;
    // The first, then one in a hundred: a broken printer does not flood.
    if (n == 1 || n % 100 == 0) {
      LogWarning("ignored a message that is not a JSON object (" + std::to_string(n) +
                 " so far): " + payload.substr(0, 80));
    }
    return;
  }
  bool wake = false;
  bool known = false;
  for (const pc::Json::Member& m : parsed->as_object()) {
    if (!m.value.is_object()) continue;
    const pc::Json* command = m.value.find("command");
    std::string cmd = command != nullptr && command->is_string() ? command->as_string() : "";
    if (m.key == "print" && cmd == "push_status") {
      known = true;
      pc::Json delta = BambuUsedFields(m.value);
      std::lock_guard<std::mutex> lock(mu_);
      MergeReport(&view_.print, delta);
      // The first report since connecting: the card can be listed now.
      if (!view_.reported && files_) files_->Wake();
      view_.reported = true;
      ++news_;
      wake = true;
    } else if (m.key == "info" && cmd == "get_version") {
      known = true;
      const pc::Json* modules = m.value.find("module");
      for (const pc::Json& mod : (modules != nullptr ? *modules : kNull).as_array()) {
        const pc::Json* name = mod.find("name");
        const pc::Json* ver = mod.find("sw_ver");
        if (name != nullptr && name->as_string() == "ota" && ver != nullptr && ver->is_string()) {
          std::lock_guard<std::mutex> lock(mu_);
          if (firmware_ != ver->as_string()) {
            firmware_ = ver->as_string();
            context_.printer->set_firmware(firmware_);
            LogInfo("firmware " + firmware_);
          }
        }
      }
    }
    if (m.value.find("result") != nullptr) {
      known = true;
      HandleAnswer(m.value);
    }
    if (m.key != "print") known = true;  // mc_print log lines, system, upgrade…
  }
  if (!known) ++ignored_;
  if (wake && periodic_) periodic_->Wake();
}

void BambuDriver::HandleAnswer(const pc::Json& body) {
  const pc::Json* seq = body.find("sequence_id");
  std::string id = seq == nullptr     ? ""
                   : seq->is_string() ? seq->as_string()
                   : seq->is_number() ? std::to_string(seq->as_int())
                                      : "";
  const pc::Json* command = body.find("command");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // another client's, or too late
  if (command != nullptr && command->is_string() && command->as_string() != it->second->command) {
    return;
  }
  it->second->answer = body;
  answered_.notify_all();
}

void BambuDriver::OnDisconnected(const std::string& why, hostio::MqttDrop kind, int64_t retry_ms) {
  octoprint_adapter::LogScope scope(entry_.name);
  std::string reason;
  switch (kind) {
    case hostio::MqttDrop::kRefused:
      reason = "the printer refused the access code (" + why +
               "): check access_code (the printer's screen shows it with LAN mode)";
      break;
    case hostio::MqttDrop::kCertificate:
      reason = "the printer's certificate was refused: " + why;
      break;
    case hostio::MqttDrop::kNetwork:
      reason = "the printer at " + entry_.address + ":" + std::to_string(entry_.mqtt_port) +
               " is unreachable: " + why;
      break;
  }
  bool log;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (view_.connected) lost_at_ = std::chrono::steady_clock::now();
    log = reason != last_logged_ || view_.connected;
    last_logged_ = reason;
    ++news_;
    view_.connected = false;
    view_.unreachable_why = reason;
    for (auto& p : pending_) {
      if (!p.second->answer) {
        p.second->answer = pc::Json::MakeObject(
            {{"result", "lost"}, {"reason", "the connection to the printer was lost"}});
      }
    }
  }
  answered_.notify_all();
  if (log) {
    LogWarning(reason + "; retrying in " + std::to_string(retry_ms / 1000) + " s");
  }
  if (periodic_) periodic_->Wake();
}

pc::StatusOr<pc::Json> BambuDriver::Request(const std::string& type, const std::string& command,
                                            pc::Json fields) {
  auto pending = std::make_shared<Pending>();
  pending->command = command;
  std::string id;
  std::shared_ptr<hostio::MqttClient> mqtt;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return pc::UnavailableError("the bridge is stopping");
    if (!view_.connected) {
      return pc::UnavailableError(view_.unreachable_why.empty() ? "the printer is not connected"
                                                                : view_.unreachable_why);
    }
    id = std::to_string(next_sequence_++);
    pending_[id] = pending;
    mqtt = mqtt_;
  }
  fields.set("sequence_id", id);
  fields.set("command", command);
  pc::Json message = pc::Json::MakeObject({{type, std::move(fields)}});
  pc::Status sent = mqtt ? mqtt->Publish("device/" + entry_.serial + "/request", message.Dump())
                         : pc::UnavailableError("not connected");
  std::unique_lock<std::mutex> lock(mu_);
  if (sent.ok()) {
    answered_.wait_for(lock, std::chrono::seconds(entry_.command_timeout_s),
                       [&] { return pending->answer.has_value() || stopping_; });
  }
  pending_.erase(id);
  if (!sent.ok()) return sent;
  if (!pending->answer) {
    if (stopping_) return pc::UnavailableError("the bridge is stopping");
    return pc::DeadlineExceededError("no answer from the printer to " + command + " within " +
                                     std::to_string(entry_.command_timeout_s) + " s");
  }
  const pc::Json& a = *pending->answer;
  const pc::Json* result = a.find("result");
  std::string r = result != nullptr && result->is_string() ? Lower(result->as_string()) : "";
  if (r == "success") return a;
  const pc::Json* reason = a.find("reason");
  const pc::Json* code = a.find("err_code");
  std::string text = reason != nullptr && reason->is_string() && !reason->as_string().empty()
                         ? reason->as_string()
                         : "the printer answered \"" + r + "\"";
  if (code != nullptr && code->is_number() && code->as_int() != 0) {
    text += " (error " + BambuErrorCode(code->as_int()) + ")";
  }
  if (r == "lost") return pc::UnavailableError(text);
  return pc::FailedPreconditionError(text);
}

int64_t BambuDriver::Step() {
  BambuView view;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Telemetry follows the printer's reports (report-to-Connect latency),
    // at most one per kMinTelemetryGap; without news, one per interval.
    const int64_t interval = last_interval_ms_;
    const int64_t elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_sent_).count();
    const bool news = news_ != news_sent_;
    if (!news && elapsed < interval) return interval - elapsed;
    if (news && elapsed < kMinTelemetryGapMs) return kMinTelemetryGapMs - elapsed;
    news_sent_ = news_;
    last_sent_ = now;
    view = view_;
    view.now = static_cast<double>(std::time(nullptr));
    bool grace = !view_.connected && now - lost_at_ < kUnreachableGrace;
    if (grace && reporter_) {
      HostSnapshot last = reporter_->last();
      if (last.state != HostState::kUnreachable) {
        reporter_->Report(last);
        return std::min<int64_t>(entry_.idle_interval_ms, 1000);
      }
    }
  }
  HostSnapshot snap = BambuSnapshot(view);
  reporter_->Report(snap);
  NoteLayer(view, snap.state);
  int64_t interval =
      snap.state == HostState::kPrinting ? entry_.printing_interval_ms : entry_.idle_interval_ms;
  std::lock_guard<std::mutex> lock(mu_);
  last_interval_ms_ = interval;
  return interval;
}

int64_t BambuDriver::FilesStep() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!view_.connected || !view_.reported) return 2000;
  }
  if (!storage_attached_) {
    pc::Status s = context_.printer->attach_storage(storage_);
    if (s.ok() || s.code() == pc::StatusCode::kAlreadyExists) {
      storage_attached_ = true;
      attach_backoff_ms_ = 2000;
      return std::chrono::duration_cast<std::chrono::milliseconds>(kRefreshEvery).count();
    }
    // Not every step: back off (2 s doubling to 5 min), say it once.
    if (attach_backoff_ms_ == 2000) {
      LogWarning("cannot list the SD card yet: " + s.message() + "; retrying");
    }
    int64_t delay = attach_backoff_ms_;
    attach_backoff_ms_ = std::min<int64_t>(attach_backoff_ms_ * 2, 300000);
    return delay;
  }
  pc::Status s = context_.printer->fs().Refresh(entry_.storage_name);
  if (!s.ok()) {
    LogDebug("cannot list the SD card: " + s.message());
    return 30000;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(kRefreshEvery).count();
}

void BambuDriver::NoteLayer(const BambuView& view, HostState state) {
  std::optional<double> layer = BambuNumber(view.print, "layer_num");
  if (state != HostState::kPrinting || !layer) {
    if (state != HostState::kPrinting && state != HostState::kPaused) last_layer_.reset();
    return;
  }
  auto now = static_cast<int64_t>(*layer);
  if (last_layer_ == now) return;
  bool changed = last_layer_ && now > *last_layer_;
  last_layer_ = now;
  if (changed) context_.printer->cameras().layer_changed();
}

pc::CommandResult BambuDriver::StartPrint(const pc::CommandRequest& c) {
  std::string path = hostio::KwString(c, "path");
  std::string prefix = "/" + entry_.storage_name + "/";
  if (path.empty()) return Reject("START_PRINT needs the file's path");
  if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size()) {
    return Reject("Only files on the SD card (" + prefix + ") can be printed, not " + path);
  }
  std::string rel = path.substr(prefix.size());
  std::string ext = Ext(rel);
  if (ext != ".3mf" && ext != ".gcode") {
    return Reject("A Bambu printer prints .3mf projects and .gcode files, not " + path);
  }
  HostSnapshot now = reporter_->last();
  if (now.state != HostState::kIdle && now.state != HostState::kFinished &&
      now.state != HostState::kStopped) {
    return Reject(std::string("Cannot start a print: the printer is ") + HostStateName(now.state) +
                  (now.reason.empty() ? "" : " (" + now.reason + ")"));
  }
  size_t slash = rel.rfind('/');
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  std::string subtask = base.substr(0, base.size() - ext.size());
  pc::Json fields = pc::Json::MakeObject();
  const char* command;
  if (ext == ".3mf") {
    command = "project_file";
    fields.set("param", "Metadata/plate_" + std::to_string(entry_.plate) + ".gcode");
    fields.set("url", LegacySdcard(entry_.serial) ? "file:///sdcard/" + rel : "ftp:///" + rel);
    fields.set("subtask_name", subtask);
    fields.set("file", "");
    fields.set("md5", "");
    fields.set("bed_type", "auto");
    fields.set("timelapse", false);
    fields.set("bed_leveling", true);
    fields.set("flow_cali", true);
    fields.set("vibration_cali", true);
    fields.set("layer_inspect", true);
    fields.set("use_ams", entry_.use_ams);
    fields.set("ams_mapping", pc::Json::MakeArray({0}));
    for (const char* id : {"profile_id", "project_id", "subtask_id", "task_id"}) {
      fields.set(id, "0");
    }
  } else {
    command = "gcode_file";
    fields.set("param", "/sdcard/" + rel);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.started_file = rel;
    view_.started_subtask = ext == ".3mf" ? subtask : "";
  }
  reporter_->ConnectCauses(true);
  pc::StatusOr<pc::Json> r = Request("print", command, std::move(fields));
  if (!r.ok()) {
    reporter_->ConnectCauses(false);
    std::lock_guard<std::mutex> lock(mu_);
    view_.started_file.clear();
    view_.started_subtask.clear();
    return Failed("Starting " + path, r.status());
  }
  LogInfo("START_PRINT " + path + ": the printer is starting the print");
  periodic_->Wake();
  return pc::CommandResult{};
}

pc::CommandResult BambuDriver::JobCommand(const char* command, const char* what) {
  std::string w(what);
  HostSnapshot now = reporter_->last();
  bool printing = now.state == HostState::kPrinting;
  bool paused = now.state == HostState::kPaused || now.state == HostState::kAttention;
  if (w == "pause" && !printing) return Reject("No print to pause");
  if (w == "resume" && !paused) return Reject("The print is not paused");
  if (w == "stop" && !printing && !paused) return Reject("No print to stop");
  reporter_->ConnectCauses(true);
  pc::StatusOr<pc::Json> r = Request("print", command, pc::Json::MakeObject({{"param", ""}}));
  if (!r.ok()) {
    reporter_->ConnectCauses(false);
    return Failed(std::string("The ") + what, r.status());
  }
  periodic_->Wake();
  return pc::CommandResult{};
}

pc::CommandResult BambuDriver::Gcode(const pc::CommandRequest& c) {
  std::string gcode = hostio::KwString(c, "gcode");
  if (gcode.empty()) return Reject("GCODE needs the G-code to send");
  // The printer drops a line without its newline.
  std::string param;
  std::istringstream lines(gcode);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) param += line + "\n";
  }
  if (param.empty()) return Reject("GCODE needs the G-code to send");
  pc::StatusOr<pc::Json> r =
      Request("print", "gcode_line", pc::Json::MakeObject({{"param", param}}));
  if (!r.ok()) return Failed("G-code \"" + gcode.substr(0, 60) + "\"", r.status());
  return pc::CommandResult{};
}

void BambuDriver::OnDownloadFinished(const pc::TransferInfo& t) {
  octoprint_adapter::LogScope scope(entry_.name);
  if (files_) files_->Wake();
  if (!t.to_print) return;
  pc::CommandRequest c;
  c.kwargs = pc::Json::MakeObject({{"path", t.path}});
  pc::CommandResult r = StartPrint(c);
  if (r.event == pc::Event::REJECTED || r.event == pc::Event::FAILED) {
    LogWarning("the download " + t.path + " is not printed: " + r.reason.value_or(""));
  }
}

}  // namespace bridge
