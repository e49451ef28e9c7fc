// Copyright 2026 The libprusaconnect Authors.
#include "virtual_driver.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "adapter_log.h"
#include "commands.h"

namespace bridge {

namespace pc = prusaconnect;
using hostio::Reject;
using octoprint_adapter::LogInfo;

// The virtual printer's files: folder paths and file sizes in memory.
class VirtualDriver::Storage : public pc::StorageProvider {
 public:
  explicit Storage(std::string name) : name_(std::move(name)) {
    files_["benchy.gcode"] = 1843211;
    files_["calibration/first_layer.gcode"] = 251873;
    folders_["calibration"] = 0;
  }
  std::string name() const override { return name_; }
  pc::StatusOr<pc::Node> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    pc::Node root;
    root.is_dir = true;
    for (const auto& f : folders_) Insert(&root, f.first, true, 0);
    for (const auto& f : files_) Insert(&root, f.first, false, f.second);
    return root;
  }
  pc::Status CreateFolder(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (folders_.count(path) != 0 || files_.count(path) != 0) {
      return pc::AlreadyExistsError(path + " already exists");
    }
    folders_[path] = 0;
    return pc::Status::OK();
  }
  pc::Status DeleteFile(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (path == printing_) return pc::FailedPreconditionError("the file is being printed");
    if (files_.erase(path) == 0) return pc::NotFoundError("file not found: " + path);
    return pc::Status::OK();
  }
  pc::Status DeleteFolder(const std::string& path, bool force) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (folders_.count(path) == 0) return pc::NotFoundError("folder not found: " + path);
    std::string prefix = path + "/";
    bool empty = true;
    for (const auto& f : files_) empty = empty && f.first.rfind(prefix, 0) != 0;
    for (const auto& f : folders_) empty = empty && f.first.rfind(prefix, 0) != 0;
    if (!empty && !force) return pc::FailedPreconditionError("the folder is not empty");
    for (auto it = files_.begin(); it != files_.end();) {
      it = it->first.rfind(prefix, 0) == 0 ? files_.erase(it) : std::next(it);
    }
    for (auto it = folders_.begin(); it != folders_.end();) {
      it =
          it->first.rfind(prefix, 0) == 0 || it->first == path ? folders_.erase(it) : std::next(it);
    }
    return pc::Status::OK();
  }
  bool CanStoreFiles() const override { return true; }
  pc::Status StoreFile(const std::string& path, const std::string& local_file) override {
    struct stat st {};
    if (stat(local_file.c_str(), &st) != 0) return pc::NotFoundError("cannot read " + local_file);
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = st.st_size;
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      folders_[path.substr(0, slash)] = 0;
    }
    return pc::Status::OK();
  }
  // The size of `path`, -1 when there is no such file.
  int64_t Size(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    return it == files_.end() ? -1 : it->second;
  }
  void SetPrinting(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    printing_ = path;
  }

 private:
  static void Insert(pc::Node* root, const std::string& path, bool dir, int64_t size) {
    pc::Node* at = root;
    size_t start = 0;
    while (true) {
      size_t slash = path.find('/', start);
      std::string part =
          path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      auto it = std::find_if(at->children.begin(), at->children.end(),
                             [&](const pc::Node& n) { return n.name == part; });
      if (it == at->children.end()) {
        pc::Node n;
        n.name = part;
        n.is_dir = dir || slash != std::string::npos;
        n.size = n.is_dir ? 0 : size;
        n.m_timestamp = 1767225600;  // 2026-01-01
        at->children.push_back(n);
        it = at->children.end() - 1;
      }
      if (slash == std::string::npos) return;
      at = &*it;
      start = slash + 1;
    }
  }

  std::string name_;
  std::mutex mu_;
  std::map<std::string, int64_t> files_;
  std::map<std::string, int> folders_;
  std::string printing_;
};

VirtualDriver::VirtualDriver(const PrinterEntry& entry) : entry_(entry) {}

VirtualDriver::~VirtualDriver() { Stop(); }

pc::Status VirtualDriver::Start(DriverContext* context) {
  context_ = *context;
  pc::Printer* p = context_.printer;
  storage_ = std::make_shared<Storage>(entry_.storage_name);
  reporter_ =
      std::make_unique<JobReporter>(p, context_.state, entry_.storage_name, "virtual printer");
  reporter_->InstallHandlers();
  reporter_->SetReportHook(context_.on_report);
  InstallJobCommands(p, entry_.name,
                     {[this](const pc::CommandRequest& c) { return StartPrint(c); },
                      [this](const char* what) { return JobCommand(what); },
                      [this](const pc::CommandRequest& c) { return Gcode(c); }});
  p->set_download_finished_cb([this](const pc::TransferInfo& t) {
    octoprint_adapter::LogScope scope(entry_.name);
    if (!t.to_print) return;
    pc::CommandRequest c;
    c.kwargs = pc::Json::MakeObject({{"path", t.path}});
    pc::CommandResult r = StartPrint(c);
    if (r.event == pc::Event::REJECTED)
      LogInfo("not printing " + t.path + ": " + r.reason.value_or(""));
  });
  p->set_software("prusaconnect-bridge (virtual printer)");
  pc::Status attached = p->attach_storage(storage_);
  if (!attached.ok()) return attached;
  last_step_ = std::chrono::steady_clock::now();
  periodic_ = std::make_unique<hostio::Periodic>(context_.scheduler, [this] {
    octoprint_adapter::LogScope scope(entry_.name);
    return Step();
  });
  periodic_->Start();
  return pc::Status::OK();
}

void VirtualDriver::Stop() {
  if (periodic_) periodic_->Stop();
}

std::string VirtualDriver::HostStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string s = std::string("virtual printer ") + HostStateName(state_);
  if (state_ == HostState::kPrinting || state_ == HostState::kPaused) {
    s += " " + job_file_ + " " +
         std::to_string(static_cast<int>(100 * done_s_ / entry_.job_seconds)) + " %";
  }
  return s;
}

int64_t VirtualDriver::Step() {
  HostSnapshot snap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - last_step_).count();
    last_step_ = now;
    if (state_ == HostState::kPrinting) {
      done_s_ += dt;
      if (done_s_ >= static_cast<double>(entry_.job_seconds)) {
        done_s_ = static_cast<double>(entry_.job_seconds);
        state_ = HostState::kFinished;
        target_nozzle_ = target_bed_ = 0;
        storage_->SetPrinting("");
        LogInfo("virtual print of " + job_file_ + " done");
      }
    }
    // First-order heating towards the targets (room temperature 25 °C).
    double k = 1 - std::exp(-dt / 8.0);
    nozzle_ += (std::max(25.0, target_nozzle_) - nozzle_) * k;
    bed_ += (std::max(25.0, target_bed_) - bed_) * k;
    snap.state = state_;
    snap.job_file = job_file_;
    if (!job_file_.empty()) snap.job_size = job_size_;
    pc::Telemetry& t = snap.telemetry;
    t.temp_nozzle = std::round(nozzle_ * 10) / 10;
    t.temp_bed = std::round(bed_ * 10) / 10;
    t.target_nozzle = target_nozzle_;
    t.target_bed = target_bed_;
    bool job = state_ == HostState::kPrinting || state_ == HostState::kPaused;
    if (job) {
      double frac = done_s_ / static_cast<double>(entry_.job_seconds);
      t.progress = static_cast<int>(100 * frac);
      t.time_printing = static_cast<int64_t>(done_s_);
      t.time_remaining = static_cast<int64_t>(entry_.job_seconds - done_s_);
      t.axis_z = std::round(frac * 400) / 20;  // 20 mm tall
      t.fan_print = state_ == HostState::kPrinting ? 5000 : 0;
      t.speed = 100;
      t.flow = 100;
    }
  }
  reporter_->Report(snap);
  return snap.state == HostState::kPrinting ? entry_.printing_interval_ms : entry_.idle_interval_ms;
}

pc::CommandResult VirtualDriver::StartPrint(const pc::CommandRequest& c) {
  std::string path = hostio::KwString(c, "path");
  std::string prefix = "/" + entry_.storage_name + "/";
  if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size()) {
    return Reject("Only files in " + prefix + " can be printed, not " + path);
  }
  std::string file = path.substr(prefix.size());
  int64_t size = storage_->Size(file);
  if (size < 0) return Reject("No such file: " + path);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == HostState::kPrinting || state_ == HostState::kPaused) {
      return Reject("Cannot start a print: the printer is " + std::string(HostStateName(state_)));
    }
    state_ = HostState::kPrinting;
    job_file_ = file;
    job_size_ = size;
    done_s_ = 0;
    target_nozzle_ = 215;
    target_bed_ = 60;
  }
  storage_->SetPrinting(file);
  reporter_->ConnectCauses(true);
  LogInfo("START_PRINT " + path);
  periodic_->Wake();
  return pc::CommandResult{};
}

pc::CommandResult VirtualDriver::JobCommand(const char* what) {
  std::string w(what);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (w == "pause") {
      if (state_ != HostState::kPrinting) return Reject("No print to pause");
      state_ = HostState::kPaused;
    } else if (w == "resume") {
      if (state_ != HostState::kPaused) return Reject("The print is not paused");
      state_ = HostState::kPrinting;
    } else {
      if (state_ != HostState::kPrinting && state_ != HostState::kPaused) {
        return Reject("No print to stop");
      }
      state_ = HostState::kStopped;
      target_nozzle_ = target_bed_ = 0;
    }
  }
  if (w == "stop") storage_->SetPrinting("");
  reporter_->ConnectCauses(true);
  periodic_->Wake();
  return pc::CommandResult{};
}

pc::CommandResult VirtualDriver::Gcode(const pc::CommandRequest& c) {
  std::string gcode = hostio::KwString(c, "gcode");
  if (gcode.empty()) return Reject("GCODE needs the G-code to send");
  size_t start = 0;
  while (start < gcode.size()) {
    size_t end = gcode.find('\n', start);
    if (end == std::string::npos) end = gcode.size();
    std::string line = gcode.substr(start, end - start);
    start = end + 1;
    size_t s = line.find(" S");
    double value = s == std::string::npos ? 0 : std::atof(line.c_str() + s + 2);
    std::lock_guard<std::mutex> lock(mu_);
    if (line.rfind("M104", 0) == 0 || line.rfind("M109", 0) == 0) target_nozzle_ = value;
    if (line.rfind("M140", 0) == 0 || line.rfind("M190", 0) == 0) target_bed_ = value;
  }
  LogInfo("GCODE: " + gcode);
  return pc::CommandResult{};
}

}  // namespace bridge
