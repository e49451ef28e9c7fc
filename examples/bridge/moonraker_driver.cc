// Copyright 2026 The libprusaconnect Authors.
#include "moonraker_driver.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <utility>
#include <vector>

#include "adapter_log.h"
#include "cameras.h"
#include "commands.h"
#include "octoprint_storage.h"
#include "state_map.h"

namespace bridge {

namespace pc = prusaconnect;
using hostio::Reject;
using octoprint_adapter::LogDebug;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

namespace {

// A socket down for less than this is no state change (Moonraker restarting
// is quick; the printer keeps printing meanwhile).
constexpr auto kUnreachableGrace = std::chrono::seconds(5);
constexpr int64_t kMaxBackoffMs = 30000;
// G-code runs until it finishes (G28, M109 take minutes).
constexpr int64_t kGcodeTimeoutMs = 15 * 60 * 1000;
// The tree goes this deep at most (a link loop on the host stops here).
constexpr int kMaxDepth = 16;

// Iterating `(p ? *p : kNull).as_array()` walks nothing when p is null,
// without copying the array.
const pc::Json kNull;

// The printer objects the driver follows (those Klipper has).
bool Wanted(const std::string& name) {
  static const char* const kObjects[] = {"webhooks",       "print_stats", "virtual_sdcard",
                                         "display_status", "heater_bed",  "toolhead",
                                         "gcode_move",     "fan",         "idle_timeout"};
  for (const char* o : kObjects) {
    if (name == o) return true;
  }
  // extruder, extruder1, …
  return name.rfind("extruder", 0) == 0 && name.find(' ') == std::string::npos;
}

std::string WsUrl(const std::string& url) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/websocket";
}

pc::CommandResult Failed(const std::string& what, const pc::Status& s) {
  LogWarning(what + " failed: " + s.message());
  return hostio::Fail("Moonraker", what, s);
}

}  // namespace

// The `gcodes` root as a Connect storage.
class MoonrakerDriver::Storage : public pc::StorageProvider {
 public:
  Storage(MoonrakerDriver* driver, std::string name) : driver_(driver), name_(std::move(name)) {}
  std::string name() const override { return name_; }

  pc::StatusOr<pc::Node> List() override {
    pc::Node root;
    root.is_dir = true;
    pc::Status s = ListInto("gcodes", &root, 0);
    if (!s.ok()) return s;
    return root;
  }
  pc::SpaceInfo Space() override {
    std::lock_guard<std::mutex> lock(mu_);
    return space_;
  }
  pc::StatusOr<pc::GcodeMetadata> Metadata(const std::string& path) override {
    pc::StatusOr<pc::Json> r =
        driver_->Call("server.files.metadata", pc::Json::MakeObject({{"filename", path}}));
    if (!r.ok()) return r.status();
    pc::GcodeMetadata m;
    auto num = [&](const char* key) -> const pc::Json* {
      const pc::Json* v = r->find(key);
      return v != nullptr && v->is_number() ? v : nullptr;
    };
    if (const pc::Json* t = num("estimated_time")) {
      m.data.set("estimated printing time (normal mode)",
                 octoprint_adapter::FormatDuration(t->as_int()));
    }
    if (const pc::Json* f = num("filament_total")) m.data.set("filament used [mm]", f->as_double());
    if (const pc::Json* f = num("filament_weight_total")) {
      m.data.set("filament used [g]", f->as_double());
    }
    if (const pc::Json* f = r->find("filament_type"); f != nullptr && f->is_string()) {
      m.data.set("filament_type", f->as_string());
    }
    if (const pc::Json* f = num("layer_height")) m.data.set("layer_height", f->as_double());
    if (const pc::Json* f = num("nozzle_diameter")) m.data.set("nozzle_diameter", f->as_double());
    if (const pc::Json* f = num("first_layer_extr_temp")) m.data.set("temperature", f->as_double());
    if (const pc::Json* f = num("first_layer_bed_temp")) {
      m.data.set("bed_temperature", f->as_double());
    }
    if (const pc::Json* f = r->find("slicer"); f != nullptr && f->is_string()) {
      m.data.set("slicer", f->as_string());
    }
    // The largest thumbnail, relative to the file's folder.
    const pc::Json* thumbs = r->find("thumbnails");
    const pc::Json* best = nullptr;
    int64_t best_pixels = -1;
    for (const pc::Json& t : (thumbs != nullptr ? *thumbs : kNull).as_array()) {
      const pc::Json* w = t.find("width");
      const pc::Json* h = t.find("height");
      int64_t pixels = (w != nullptr ? w->as_int() : 0) * (h != nullptr ? h->as_int() : 0);
      const pc::Json* rel = t.find("relative_path");
      if (rel != nullptr && rel->is_string() && pixels > best_pixels) {
        best = rel;
        best_pixels = pixels;
      }
    }
    if (best != nullptr) {
      size_t slash = path.rfind('/');
      std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
      pc::StatusOr<hostio::HttpReply> png = driver_->http().Request(
          "GET", "/server/files/gcodes/" + hostio::HostHttp::EncodePath(dir + best->as_string()));
      if (png.ok() && png->status == 200) {
        std::optional<pc::Thumbnail> t = octoprint_adapter::PngThumbnail(png->body);
        if (t) m.thumbnails.push_back(std::move(*t));
      }
    }
    return m;
  }
  pc::Status CreateFolder(const std::string& path) override {
    return driver_
        ->Call("server.files.post_directory", pc::Json::MakeObject({{"path", "gcodes/" + path}}))
        .status();
  }
  pc::Status DeleteFile(const std::string& path) override {
    return driver_
        ->Call("server.files.delete_file", pc::Json::MakeObject({{"path", "gcodes/" + path}}))
        .status();
  }
  pc::Status DeleteFolder(const std::string& path, bool force) override {
    return driver_
        ->Call("server.files.delete_directory",
               pc::Json::MakeObject({{"path", "gcodes/" + path}, {"force", force}}))
        .status();
  }
  bool CanStoreFiles() const override { return true; }
  pc::Status StoreFile(const std::string& path, const std::string& local_file) override {
    size_t slash = path.rfind('/');
    std::vector<hostio::FormPart> parts;
    parts.push_back({"root", "gcodes", "", ""});
    if (slash != std::string::npos) parts.push_back({"path", path.substr(0, slash), "", ""});
    parts.push_back(
        {"file", "", local_file, slash == std::string::npos ? path : path.substr(slash + 1)});
    pc::StatusOr<hostio::HttpReply> r =
        driver_->http().Request("POST", "/server/files/upload", nullptr, &parts, 30 * 60 * 1000);
    if (!r.ok()) return r.status();
    if (r->status == 200 || r->status == 201) return pc::Status::OK();
    pc::StatusOr<pc::Json> body = pc::Json::Parse(r->body);
    const pc::Json* error = body.ok() ? body->find("error") : nullptr;
    if (error != nullptr) return MoonrakerError(*error);
    return pc::InternalError("Moonraker answered HTTP " + std::to_string(r->status) +
                             " to the upload of " + path);
  }

 private:
  pc::Status ListInto(const std::string& dir, pc::Node* into, int depth) {
    if (depth > kMaxDepth) return pc::Status::OK();
    pc::StatusOr<pc::Json> r = driver_->Call(
        "server.files.get_directory", pc::Json::MakeObject({{"path", dir}, {"extended", false}}));
    if (!r.ok()) return r.status();
    if (depth == 0) {
      const pc::Json* usage = r->find("disk_usage");
      std::lock_guard<std::mutex> lock(mu_);
      if (usage != nullptr && usage->is_object()) {
        if (const pc::Json* f = usage->find("free")) space_.free_space = f->as_int();
        if (const pc::Json* t = usage->find("total")) space_.total_space = t->as_int();
      }
    }
    if (const pc::Json* files = r->find("files")) {
      for (const pc::Json& f : files->as_array()) {
        const pc::Json* name = f.find("filename");
        if (name == nullptr || !name->is_string()) continue;
        pc::Node n;
        n.name = name->as_string();
        if (const pc::Json* s = f.find("size")) n.size = s->as_int();
        if (const pc::Json* m = f.find("modified")) n.m_timestamp = m->as_int();
        if (const pc::Json* p = f.find("permissions"); p != nullptr && p->is_string()) {
          n.read_only = p->as_string().find('w') == std::string::npos;
        }
        into->children.push_back(std::move(n));
      }
    }
    if (const pc::Json* dirs = r->find("dirs")) {
      for (const pc::Json& d : dirs->as_array()) {
        const pc::Json* name = d.find("dirname");
        if (name == nullptr || !name->is_string()) continue;
        pc::Node n;
        n.name = name->as_string();
        n.is_dir = true;
        if (const pc::Json* m = d.find("modified")) n.m_timestamp = m->as_int();
        if (!n.name.empty() && n.name[0] != '.') {
          pc::Status s = ListInto(dir + "/" + n.name, &n, depth + 1);
          if (!s.ok()) return s;
        }
        into->children.push_back(std::move(n));
      }
    }
    return pc::Status::OK();
  }

  MoonrakerDriver* driver_;
  std::string name_;
  std::mutex mu_;
  pc::SpaceInfo space_;
};

MoonrakerDriver::MoonrakerDriver(const PrinterEntry& entry)
    : entry_(entry), http_(entry.url, entry.api_key, "Moonraker", "url") {}

MoonrakerDriver::~MoonrakerDriver() { Stop(); }

octoprint_adapter::Identity MoonrakerDriver::ProbeIdentity(hostio::WsLoop*, hostio::Scheduler*) {
  pc::StatusOr<hostio::HttpReply> r =
      http_.Request("GET", "/machine/system_info", nullptr, nullptr, 5000);
  if (!r.ok() || r->status != 200) {
    LogWarning("cannot ask Moonraker for the machine's serial number (" +
               (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()) + ")");
    return {};
  }
  pc::StatusOr<pc::Json> body = pc::Json::Parse(r->body);
  const pc::Json* result = body.ok() ? body->find("result") : nullptr;
  return result != nullptr ? IdentityFromSystemInfo(*result) : octoprint_adapter::Identity{};
}

pc::Status MoonrakerDriver::Start(DriverContext* context) {
  context_ = *context;
  pc::Printer* p = context_.printer;
  storage_ = std::make_shared<Storage>(this, entry_.storage_name);
  reporter_ = std::make_unique<JobReporter>(p, context_.state, entry_.storage_name, "Moonraker");
  reporter_->InstallHandlers();
  reporter_->SetReportHook(context_.on_report);
  InstallJobCommands(p, entry_.name,
                     {[this](const pc::CommandRequest& c) { return StartPrint(c); },
                      [this](const char* what) {
                        std::string w(what);
                        return JobCommand(w == "stop"    ? "printer.print.cancel"
                                          : w == "pause" ? "printer.print.pause"
                                                         : "printer.print.resume",
                                          what);
                      },
                      [this](const pc::CommandRequest& c) { return Gcode(c); }});
  p->set_handler(pc::Command::RESET_PRINTER, [this](const pc::CommandRequest&) {
    octoprint_adapter::LogScope scope(entry_.name);
    return ResetPrinter();
  });
  p->set_download_finished_cb([this](const pc::TransferInfo& t) { OnDownloadFinished(t); });
  p->set_software("prusaconnect-bridge (Moonraker)");
  {
    std::lock_guard<std::mutex> lock(mu_);
    view_.unreachable_why =
        "connecting to Moonraker at " + hostio::UrlWithoutCredentials(entry_.url);
    lost_at_ = std::chrono::steady_clock::now() - kUnreachableGrace;
  }
  // Made before the socket opens: the loop thread wakes it from the first
  // message on (a Wake before Start is a no-op).
  periodic_ = std::make_unique<hostio::Periodic>(context_.scheduler, [this] {
    octoprint_adapter::LogScope scope(entry_.name);
    return Step();
  });
  Connect();
  periodic_->Start(200);
  return pc::Status::OK();
}

void MoonrakerDriver::Stop() {
  std::shared_ptr<hostio::WsConnection> ws;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    ws = ws_;
  }
  if (periodic_) periodic_->Stop();
  if (ws) {
    ws->Detach();
    ws->Close();
  }
  std::map<int64_t, Callback> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.swap(pending_);
  }
  for (auto& p : pending) p.second(pc::UnavailableError("the bridge is stopping"), pc::Json());
}

std::string MoonrakerDriver::HostStatus() const {
  HostSnapshot s = reporter_ ? reporter_->last() : HostSnapshot{};
  std::string out = std::string("Moonraker ") + HostStateName(s.state);
  if (!s.reason.empty()) out += ": " + s.reason;
  if (s.telemetry.progress) out += ", " + std::to_string(*s.telemetry.progress) + " %";
  std::lock_guard<std::mutex> lock(mu_);
  const pc::Json* ps = view_.status.find("print_stats");
  const pc::Json* info = ps != nullptr ? ps->find("info") : nullptr;
  const pc::Json* layer = info != nullptr ? info->find("current_layer") : nullptr;
  const pc::Json* total = info != nullptr ? info->find("total_layer") : nullptr;
  if (layer != nullptr && layer->is_number() && total != nullptr && total->is_number()) {
    out += ", layer " + std::to_string(layer->as_int()) + "/" + std::to_string(total->as_int());
  }
  return out;
}

void MoonrakerDriver::Connect() {
  hostio::WsTarget target;
  target.url = WsUrl(entry_.url);
  target.verify_tls = entry_.verify_tls;
  if (!entry_.api_key.empty()) target.headers.emplace_back("X-Api-Key", entry_.api_key);
  std::lock_guard<std::mutex> lock(mu_);
  reconnect_at_.reset();
  if (stopping_) return;
  pc::StatusOr<std::shared_ptr<hostio::WsConnection>> c = context_.ws->Connect(target, this);
  if (!c.ok()) {
    view_.unreachable_why = c.status().message();
    return;
  }
  ws_ = *c;
}

void MoonrakerDriver::CallAsync(const std::string& method, const pc::Json& params, Callback done) {
  std::shared_ptr<hostio::WsConnection> ws;
  int64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ws = ws_;
    if (!ws || !socket_open_ || stopping_) {
      ws.reset();
    } else {
      id = next_id_++;
      pending_[id] = done;
    }
  }
  if (!ws) {
    done(pc::UnavailableError("Moonraker is not connected (" +
                              hostio::UrlWithoutCredentials(entry_.url) + ")"),
         pc::Json());
    return;
  }
  pc::Json request = pc::Json::MakeObject(
      {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", id}});
  pc::Status sent = ws->Send(request.Dump());
  if (!sent.ok()) {
    Callback cb;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      cb = std::move(it->second);
      pending_.erase(it);
    }
    cb(pc::UnavailableError("Moonraker is not connected: " + sent.message()), pc::Json());
  }
}

pc::StatusOr<pc::Json> MoonrakerDriver::Call(const std::string& method, const pc::Json& params,
                                             int64_t timeout_ms) {
  auto promise = std::make_shared<std::promise<pc::StatusOr<pc::Json>>>();
  std::future<pc::StatusOr<pc::Json>> future = promise->get_future();
  CallAsync(method, params, [promise](const pc::Status& s, const pc::Json& result) {
    if (s.ok()) {
      promise->set_value(result);
    } else {
      promise->set_value(s);
    }
  });
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    return pc::DeadlineExceededError("Moonraker did not answer " + method + " within " +
                                     std::to_string(timeout_ms / 1000) + " s");
  }
  return future.get();
}

void MoonrakerDriver::OnOpen() {
  octoprint_adapter::LogScope scope(entry_.name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    socket_open_ = true;
  }
  pc::Json params = pc::Json::MakeObject({{"client_name", "prusaconnect-bridge"},
                                          {"version", "1.0"},
                                          {"type", "other"},
                                          {"url", "https://github.com/libprusaconnect"}});
  if (!entry_.api_key.empty()) params.set("api_key", entry_.api_key);
  CallAsync("server.connection.identify", params, [this](const pc::Status& s, const pc::Json&) {
    if (!s.ok()) {
      LogWarning("Moonraker refused to identify the bridge: " + s.message());
      std::lock_guard<std::mutex> lock(mu_);
      view_.unreachable_why = "Moonraker refused the connection: " + s.message();
      return;
    }
    PollServerInfo();
  });
}

void MoonrakerDriver::PollServerInfo() {
  CallAsync("server.info", pc::Json::MakeObject(),
            [this](const pc::Status& s, const pc::Json& info) {
              if (!s.ok()) return;  // the socket dropped: OnClosed reconnects
              const pc::Json* k = info.find("klippy_state");
              std::string klippy = k != nullptr && k->is_string() ? k->as_string() : "disconnected";
              bool first;
              {
                std::lock_guard<std::mutex> lock(mu_);
                first = !view_.connected;
                view_.connected = true;
                view_.klippy_state = klippy;
                backoff_ms_ = 1000;
                if (stopping_) return;
              }
              if (first)
                LogInfo("connected to Moonraker at " + hostio::UrlWithoutCredentials(entry_.url) +
                        " (klippy " + klippy + ")");
              if (klippy == "ready") {
                Subscribe();
                return;
              }
              if (klippy == "shutdown" || klippy == "error") {
                CallAsync("printer.info", pc::Json::MakeObject(),
                          [this](const pc::Status& ps, const pc::Json& pi) {
                            const pc::Json* m = ps.ok() ? pi.find("state_message") : nullptr;
                            std::lock_guard<std::mutex> lock(mu_);
                            if (m != nullptr && m->is_string())
                              view_.klippy_message = m->as_string();
                          });
              }
              // Klippy is not ready: Step() asks again in 2 s (notify_klippy_ready
              // may come first).
              std::lock_guard<std::mutex> lock(mu_);
              if (klippy != "shutdown" && klippy != "error") {
                info_poll_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(2);
              }
            });
}

void MoonrakerDriver::Subscribe() {
  CallAsync("printer.objects.list", pc::Json::MakeObject(),
            [this](const pc::Status& s, const pc::Json& list) {
              if (!s.ok()) return;
              pc::Json objects = pc::Json::MakeObject();
              const pc::Json* names = list.find("objects");
              for (const pc::Json& n : (names != nullptr ? *names : kNull).as_array()) {
                if (n.is_string() && Wanted(n.as_string())) objects.set(n.as_string(), pc::Json());
              }
              CallAsync("printer.objects.subscribe", pc::Json::MakeObject({{"objects", objects}}),
                        [this](const pc::Status& ss, const pc::Json& r) {
                          if (!ss.ok()) {
                            LogWarning("cannot subscribe to Klipper's state: " + ss.message());
                            return;
                          }
                          const pc::Json* status = r.find("status");
                          {
                            std::lock_guard<std::mutex> lock(mu_);
                            view_.status = pc::Json::MakeObject();
                            if (status != nullptr) MergeStatus(&view_.status, *status);
                            view_.klippy_state = "ready";
                            view_.klippy_message.clear();
                            view_.restart_requested.reset();
                            files_dirty_ = true;
                          }
                          if (periodic_) periodic_->Wake();
                        });
            });
}

void MoonrakerDriver::OnMessage(const std::string& text) {
  octoprint_adapter::LogScope scope(entry_.name);
  pc::StatusOr<pc::Json> parsed = pc::Json::Parse(text);
  if (!parsed.ok() || !parsed->is_object()) {
    LogWarning("Moonraker sent a message that is not JSON-RPC: " + text.substr(0, 120));
    return;
  }
  const pc::Json& m = *parsed;
  const pc::Json* id = m.find("id");
  if (id != nullptr && id->is_number()) {
    Callback cb;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(id->as_int());
      if (it == pending_.end()) return;  // timed out long ago
      cb = std::move(it->second);
      pending_.erase(it);
    }
    const pc::Json* error = m.find("error");
    if (error != nullptr && !error->is_null()) {
      cb(MoonrakerError(*error), pc::Json());
    } else {
      const pc::Json* result = m.find("result");
      cb(pc::Status::OK(), result != nullptr ? *result : pc::Json());
    }
    return;
  }
  const pc::Json* method = m.find("method");
  if (method == nullptr || !method->is_string()) return;
  const std::string& name = method->as_string();
  const pc::Json* params = m.find("params");
  bool wake = false;
  if (name == "notify_status_update") {
    if (params != nullptr && params->is_array() && params->size() > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      const pc::Json* ps_before = view_.status.find("print_stats");
      std::string before = ps_before != nullptr && ps_before->find("state") != nullptr
                               ? ps_before->find("state")->as_string()
                               : "";
      MergeStatus(&view_.status, (*params)[0]);
      const pc::Json* ps = view_.status.find("print_stats");
      std::string after =
          ps != nullptr && ps->find("state") != nullptr ? ps->find("state")->as_string() : "";
      const pc::Json* wh = (*params)[0].find("webhooks");
      wake = before != after || wh != nullptr;
    }
  } else if (name == "notify_klippy_ready") {
    LogInfo("Klipper is ready");
    Subscribe();
  } else if (name == "notify_klippy_shutdown") {
    {
      std::lock_guard<std::mutex> lock(mu_);
      view_.klippy_state = "shutdown";
    }
    LogWarning("Klipper shut down");
    CallAsync("printer.info", pc::Json::MakeObject(),
              [this](const pc::Status& s, const pc::Json& info) {
                const pc::Json* msg = s.ok() ? info.find("state_message") : nullptr;
                {
                  std::lock_guard<std::mutex> lock(mu_);
                  if (msg != nullptr && msg->is_string()) view_.klippy_message = msg->as_string();
                }
                if (periodic_) periodic_->Wake();
              });
    wake = true;
  } else if (name == "notify_klippy_disconnected") {
    {
      std::lock_guard<std::mutex> lock(mu_);
      view_.klippy_state = "disconnected";
      view_.klippy_message.clear();
      view_.status = pc::Json::MakeObject();
    }
    LogWarning("Klipper disconnected from Moonraker (restarting?)");
    PollServerInfo();
    wake = true;
  } else if (name == "notify_history_changed") {
    // A job added or finished: print_stats says the same a moment later;
    // report now, and say how the job ended in the log.
    const pc::Json* h =
        params != nullptr && params->is_array() && params->size() > 0 ? &(*params)[0] : nullptr;
    const pc::Json* action = h != nullptr ? h->find("action") : nullptr;
    const pc::Json* job = h != nullptr ? h->find("job") : nullptr;
    const pc::Json* status = job != nullptr ? job->find("status") : nullptr;
    const pc::Json* file = job != nullptr ? job->find("filename") : nullptr;
    if (action != nullptr && action->as_string() == "finished" && status != nullptr) {
      LogInfo("Klipper's history: " + (file != nullptr ? file->as_string() : std::string("job")) +
              " " + status->as_string());
    }
    wake = true;
  } else if (name == "notify_webcams_changed") {
    std::lock_guard<std::mutex> lock(mu_);
    webcams_dirty_ = true;
    wake = true;
  } else if (name == "notify_gcode_response") {
    std::lock_guard<std::mutex> lock(mu_);
    if (gcode_capture_ > 0 && params != nullptr && params->is_array() && params->size() > 0 &&
        (*params)[0].is_string() && gcode_lines_.size() < 1000) {
      gcode_lines_.push_back((*params)[0].as_string());
    }
  } else if (name == "notify_filelist_changed") {
    std::lock_guard<std::mutex> lock(mu_);
    files_dirty_ = true;
    wake = true;
  }
  if (wake && periodic_) periodic_->Wake();
}

void MoonrakerDriver::OnClosed(const std::string& why) {
  octoprint_adapter::LogScope scope(entry_.name);
  std::map<int64_t, Callback> pending;
  int64_t delay;
  bool was_connected;
  bool log;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_connected = view_.connected;
    socket_open_ = false;
    if (view_.connected) lost_at_ = std::chrono::steady_clock::now();
    view_.connected = false;
    view_.unreachable_why =
        "Moonraker unreachable at " + hostio::UrlWithoutCredentials(entry_.url) + ": " + why;
    pending.swap(pending_);
    ws_.reset();
    delay = backoff_ms_;
    backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
    reconnect_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    // Each new reason once, and every lost connection.
    log = why != last_logged_ || was_connected;
    last_logged_ = why;
  }
  for (auto& p : pending) p.second(pc::UnavailableError("Moonraker connection lost: " + why), {});
  if (log) {
    LogWarning("Moonraker at " + hostio::UrlWithoutCredentials(entry_.url) + ": " + why +
               "; reconnecting in " + std::to_string(delay / 1000.0).substr(0, 4) + " s");
  }
  if (periodic_) periodic_->Wake();
}

void MoonrakerDriver::FetchEstimate(const std::string& file) {
  CallAsync("server.files.metadata", pc::Json::MakeObject({{"filename", file}}),
            [this, file](const pc::Status& s, const pc::Json& meta) {
              const pc::Json* t = s.ok() ? meta.find("estimated_time") : nullptr;
              std::lock_guard<std::mutex> lock(mu_);
              if (estimate_file_ != file) return;
              if (t != nullptr && t->is_number()) view_.estimated_time = t->as_double();
            });
}

int64_t MoonrakerDriver::Step() {
  bool reconnect = false, poll_info = false;
  auto now = std::chrono::steady_clock::now();
  int64_t next_due_ms = INT64_MAX;  // the next reconnect or info poll
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Timed work happens here, never in a scheduler task of its own: Stop()
    // then only has to stop this step.
    for (auto* at : {&reconnect_at_, &info_poll_at_}) {
      if (!*at) continue;
      if (now >= **at) {
        (at == &reconnect_at_ ? reconnect : poll_info) = true;
        at->reset();
      } else {
        next_due_ms = std::min<int64_t>(
            next_due_ms,
            std::chrono::duration_cast<std::chrono::milliseconds>(**at - now).count() + 1);
      }
    }
    poll_info = poll_info && view_.connected && view_.klippy_state != "ready";
  }
  if (reconnect) Connect();
  if (poll_info) PollServerInfo();
  int64_t step_ms = StepReport();
  return std::min(step_ms, next_due_ms);
}

int64_t MoonrakerDriver::StepReport() {
  MoonrakerView view;
  bool refresh = false, attach = false;
  std::string fetch_estimate;
  {
    std::lock_guard<std::mutex> lock(mu_);
    view = view_;
    bool grace =
        !view_.connected && std::chrono::steady_clock::now() - lost_at_ < kUnreachableGrace;
    if (grace && reporter_) {
      // A short drop: the last view stands.
      HostSnapshot last = reporter_->last();
      if (last.state != HostState::kUnreachable) {
        reporter_->Report(last);
        return entry_.idle_interval_ms;
      }
    }
    const pc::Json* ps = view_.status.find("print_stats");
    const pc::Json* f = ps != nullptr ? ps->find("filename") : nullptr;
    std::string file = f != nullptr && f->is_string() ? f->as_string() : "";
    if (file != estimate_file_) {
      estimate_file_ = file;
      view_.estimated_time.reset();
      if (!file.empty() && view_.connected) fetch_estimate = file;
    }
    bool klippy_up = view_.connected;
    if (klippy_up && files_dirty_) {
      if (!storage_attached_) {
        if (std::chrono::steady_clock::now() >= next_attach_) attach = true;
      } else {
        refresh = true;
        files_dirty_ = false;
      }
    }
  }
  if (!fetch_estimate.empty()) FetchEstimate(fetch_estimate);
  HostSnapshot snap = MoonrakerSnapshot(view);
  reporter_->Report(snap);
  NoteLayer(view, snap.state);
  if (attach) {
    pc::Status s = context_.printer->attach_storage(storage_);
    std::lock_guard<std::mutex> lock(mu_);
    if (s.ok() || s.code() == pc::StatusCode::kAlreadyExists) {
      storage_attached_ = true;
      files_dirty_ = false;
      attach_backoff_ms_ = 2000;
    } else {
      // Not every step: back off (2 s doubling to 5 min), say it once.
      if (attach_backoff_ms_ == 2000) {
        LogWarning("cannot list Moonraker's files yet: " + s.message() + "; retrying");
      }
      next_attach_ =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(attach_backoff_ms_);
      attach_backoff_ms_ = std::min<int64_t>(attach_backoff_ms_ * 2, 300000);
    }
  } else if (refresh) {
    pc::Status s = context_.printer->fs().Refresh(entry_.storage_name);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      files_dirty_ = true;
    }
  }
  if (entry_.cameras && view.connected && !context_.printer->token().empty()) SyncCameras();
  return snap.state == HostState::kPrinting ? entry_.printing_interval_ms : entry_.idle_interval_ms;
}

void MoonrakerDriver::NoteLayer(const MoonrakerView& view, HostState state) {
  // Klipper counts layers when the slicer says where they start
  // (SET_PRINT_STATS_INFO CURRENT_LAYER=…); each new one is a camera
  // trigger for EACH_LAYER / FIFTH_LAYER cameras. Steps come at least once
  // a second while printing, faster than layers change.
  const pc::Json* ps = view.status.find("print_stats");
  const pc::Json* info = ps != nullptr ? ps->find("info") : nullptr;
  const pc::Json* layer = info != nullptr ? info->find("current_layer") : nullptr;
  if (state != HostState::kPrinting || layer == nullptr || !layer->is_number()) {
    if (state != HostState::kPrinting && state != HostState::kPaused) last_layer_.reset();
    return;
  }
  int64_t now = layer->as_int();
  if (last_layer_ == now) return;
  bool changed = last_layer_ && now > *last_layer_;
  last_layer_ = now;
  const pc::Json* total = info->find("total_layer");
  LogDebug("layer " + std::to_string(now) +
           (total != nullptr && total->is_number() ? " of " + std::to_string(total->as_int())
                                                   : std::string()));
  if (changed && !cameras_.empty()) context_.printer->cameras().layer_changed();
}

void MoonrakerDriver::SyncCameras() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!webcams_dirty_) return;
    webcams_dirty_ = false;
  }
  pc::StatusOr<pc::Json> list = Call("server.webcams.list", pc::Json::MakeObject());
  if (!list.ok()) {
    // Moonraker without the webcam component, or a dropped socket.
    if (list.status().code() != pc::StatusCode::kNotFound) {
      std::lock_guard<std::mutex> lock(mu_);
      webcams_dirty_ = true;
    }
    return;
  }
  std::vector<Webcam> wanted = WebcamsFromList(*list, entry_.url);
  pc::CameraController& cams = context_.printer->cameras();
  std::map<std::string, std::string> now;
  for (const Webcam& w : wanted) now[w.id] = w.snapshot_url;
  for (const auto& old : cameras_) {
    auto it = now.find(old.first);
    if (it == now.end() || it->second != old.second) {
      (void)cams.remove_camera(old.first);
      LogInfo("camera " + old.first + " removed");
    }
  }
  for (const Webcam& w : wanted) {
    auto known = cameras_.find(w.id);
    if (known != cameras_.end() && known->second == w.snapshot_url) continue;
    pc::CameraConfig config;
    config.id = w.id;
    config.name = w.name;
    pc::HttpSnapshotOptions http;
    http.url = w.snapshot_url;
    http.verify_tls = entry_.verify_tls;
    config.driver = pc::MakeHttpSnapshotDriver(http);
    if (context_.keep_images) config.driver = context_.keep_images(w.id, config.driver);
    config.trigger_scheme =
        CameraTriggerFromName(entry_.camera_trigger).value_or(pc::TriggerScheme::THIRTY_SEC);
    pc::Status added = AddStoredCamera(context_.printer, context_.state->dir(), config);
    if (!added.ok()) {
      // A config the library refuses stays refused; Connect may answer later.
      bool retry = added.code() != pc::StatusCode::kInvalidArgument;
      LogWarning("webcam " + w.name + " (" + w.snapshot_url + ") is not a Connect camera: " +
                 added.message() + (retry ? "; trying again later" : ""));
      now.erase(w.id);
      if (retry) {
        std::lock_guard<std::mutex> lock(mu_);
        webcams_dirty_ = true;
      }
      continue;
    }
    LogInfo("webcam " + w.name + " (" + w.snapshot_url + ") is Connect camera " + w.id);
  }
  cameras_ = now;
}

pc::CommandResult MoonrakerDriver::StartPrint(const pc::CommandRequest& c) {
  std::string path = hostio::KwString(c, "path");
  std::string prefix = "/" + entry_.storage_name + "/";
  if (path.empty()) return Reject("START_PRINT needs the file's path");
  if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size()) {
    return Reject("Only files in " + prefix + " (Moonraker's gcodes folder) can be printed, not " +
                  path);
  }
  HostSnapshot now = reporter_->last();
  // Moonraker starts a new file even while paused: refuse first.
  if (now.state != HostState::kIdle && now.state != HostState::kFinished &&
      now.state != HostState::kStopped) {
    return Reject(std::string("Cannot start a print: the printer is ") + HostStateName(now.state) +
                  (now.reason.empty() ? "" : " (" + now.reason + ")"));
  }
  reporter_->ConnectCauses(true);
  pc::StatusOr<pc::Json> r =
      Call("printer.print.start", pc::Json::MakeObject({{"filename", path.substr(prefix.size())}}));
  if (!r.ok()) {
    reporter_->ConnectCauses(false);
    return Failed("Starting " + path, r.status());
  }
  LogInfo("START_PRINT " + path + ": Klipper is starting the print");
  periodic_->Wake();
  return pc::CommandResult{};
}

pc::CommandResult MoonrakerDriver::JobCommand(const char* method, const char* what) {
  std::string w(what);
  HostSnapshot now = reporter_->last();
  if (w == "pause" && now.state != HostState::kPrinting) return Reject("No print to pause");
  if (w == "resume" && now.state != HostState::kPaused) return Reject("The print is not paused");
  if (w == "stop" && now.state != HostState::kPrinting && now.state != HostState::kPaused) {
    return Reject("No print to stop");
  }
  reporter_->ConnectCauses(true);
  pc::StatusOr<pc::Json> r = Call(method, pc::Json::MakeObject(), 60000);
  if (!r.ok()) {
    reporter_->ConnectCauses(false);
    return Failed(std::string("The ") + what, r.status());
  }
  periodic_->Wake();
  return pc::CommandResult{};
}

pc::CommandResult MoonrakerDriver::Gcode(const pc::CommandRequest& c) {
  std::string gcode = hostio::KwString(c, "gcode");
  if (gcode.empty()) return Reject("GCODE needs the G-code to send");
  // Klipper answers "ok" to a command it does not know and only says so on
  // the console ("// Unknown command:\"X\""): the console is read while the
  // script runs, so that Connect hears about it.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gcode_capture_++ == 0) gcode_lines_.clear();
  }
  pc::StatusOr<pc::Json> r =
      Call("printer.gcode.script", pc::Json::MakeObject({{"script", gcode}}), kGcodeTimeoutMs);
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lines = gcode_lines_;
    --gcode_capture_;
  }
  if (!r.ok()) return Failed("G-code \"" + gcode.substr(0, 60) + "\"", r.status());
  for (const std::string& line : lines) {
    if (line.rfind("// Unknown command:", 0) == 0) {
      return Failed("G-code \"" + gcode.substr(0, 60) + "\"",
                    pc::InvalidArgumentError(line.substr(3)));
    }
  }
  return pc::CommandResult{};
}

pc::CommandResult MoonrakerDriver::ResetPrinter() {
  reporter_->ConnectCauses(true);
  {
    // Klippy restarts now: "disconnected" for the next seconds is BUSY, not
    // an error.
    std::lock_guard<std::mutex> lock(mu_);
    view_.restart_requested = std::chrono::steady_clock::now();
  }
  pc::StatusOr<pc::Json> r = Call("printer.firmware_restart", pc::Json::MakeObject(), 30000);
  if (!r.ok()) {
    reporter_->ConnectCauses(false);
    return Failed("The firmware restart", r.status());
  }
  LogInfo("RESET_PRINTER: Klipper is restarting its firmware");
  return pc::CommandResult{};
}

void MoonrakerDriver::OnDownloadFinished(const pc::TransferInfo& t) {
  octoprint_adapter::LogScope scope(entry_.name);
  if (!t.to_print) return;
  pc::CommandRequest c;
  c.kwargs = pc::Json::MakeObject({{"path", t.path}});
  pc::CommandResult r = StartPrint(c);
  if (r.event == pc::Event::REJECTED || r.event == pc::Event::FAILED) {
    LogWarning("the download " + t.path + " is not printed: " + r.reason.value_or(""));
  }
}

}  // namespace bridge
