// Copyright 2026 The libprusaconnect Authors.
#include "status_hub.h"

#include <chrono>
#include <ctime>
#include <utility>

namespace bridge {

namespace pc = prusaconnect;

namespace {

bool InJob(pc::State s) { return s == pc::State::PRINTING || s == pc::State::PAUSED; }

template <typename T>
void SetOpt(pc::Json* j, const char* key, const std::optional<T>& v) {
  if (v) {
    j->set(key, *v);
  } else {
    j->set(key, pc::Json());
  }
}

std::shared_ptr<const Image> MakeImage(const std::string& camera_id, std::string bytes) {
  auto image = std::make_shared<Image>();
  image->bytes = std::move(bytes);
  image->time = static_cast<int64_t>(std::time(nullptr));
  image->camera_id = camera_id;
  return image;
}

template <typename Store>
class KeepingDriver : public pc::CameraDriver {
 public:
  KeepingDriver(std::weak_ptr<Store> store, std::string printer, std::string camera_id,
                std::shared_ptr<pc::CameraDriver> inner)
      : store_(std::move(store)),
        printer_(std::move(printer)),
        camera_id_(std::move(camera_id)),
        inner_(std::move(inner)) {}
  pc::StatusOr<std::string> Capture() override {
    pc::StatusOr<std::string> image = inner_->Capture();
    if (image.ok()) {
      if (std::shared_ptr<Store> store = store_.lock()) {
        std::shared_ptr<const Image> kept = MakeImage(camera_id_, *image);
        std::lock_guard<std::mutex> lock(store->mu);
        store->images[printer_] = std::move(kept);
      }
    }
    return image;
  }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::weak_ptr<Store> store_;
  std::string printer_;
  std::string camera_id_;
  std::shared_ptr<pc::CameraDriver> inner_;
};

}  // namespace

void StatusHub::Report(const std::string& name, const hostio::Reported& r) {
  std::vector<HubEvent> events;
  std::vector<std::function<void(const HubEvent&)>> listeners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = reports_.find(name);
    bool first = it == reports_.end();
    PrinterReport& cur = reports_[name];
    hostio::Reported before = cur.reported;
    cur.reported = r;
    cur.time = static_cast<int64_t>(std::time(nullptr));
    if (!r.reason.empty() && (r.state == pc::State::ERROR || r.state == pc::State::ATTENTION)) {
      cur.last_error = r.reason;
      cur.last_error_time = cur.time;
    }
    // The host first: "back" reads before the state it comes back in.
    if (!first && before.host_reachable != r.host_reachable) {
      pc::Json d = pc::Json::MakeObject();
      d.set("printer", name);
      d.set("reachable", r.host_reachable);
      d.set("reason", r.reason);
      EmitLocked("host", std::move(d), &events);
    }
    if (first || before.state != r.state || before.reason != r.reason) {
      pc::Json d = pc::Json::MakeObject();
      d.set("printer", name);
      d.set("state", pc::ToString(r.state));
      if (first) {
        d.set("previous", pc::Json());
      } else {
        d.set("previous", pc::ToString(before.state));
      }
      d.set("reason", r.reason);
      d.set("reachable", r.host_reachable);
      EmitLocked("state", std::move(d), &events);
    }
    // A job starts when a job id appears; it ends when the id goes (or
    // changes, a new job right after the last).
    if (!first && before.job_id != r.job_id) {
      if (before.job_id) {
        pc::Json d = pc::Json::MakeObject();
        d.set("printer", name);
        d.set("event", "ended");
        d.set("job_id", *before.job_id);
        d.set("file", before.job_file.empty() ? r.job_file : before.job_file);
        d.set("state", pc::ToString(r.state));
        SetOpt(&d, "progress", before.telemetry.progress);
        EmitLocked("job", std::move(d), &events);
      }
      if (r.job_id) {
        pc::Json d = pc::Json::MakeObject();
        d.set("printer", name);
        d.set("event", "started");
        d.set("job_id", *r.job_id);
        d.set("file", r.job_file);
        d.set("state", pc::ToString(r.state));
        EmitLocked("job", std::move(d), &events);
      }
    }
    if (InJob(r.state) && r.telemetry.progress &&
        (first || before.telemetry.progress != r.telemetry.progress)) {
      pc::Json d = pc::Json::MakeObject();
      d.set("printer", name);
      d.set("progress", *r.telemetry.progress);
      SetOpt(&d, "time_remaining", r.telemetry.time_remaining);
      d.set("file", r.job_file);
      EmitLocked("progress", std::move(d), &events);
    }
    if (!events.empty()) listeners = listeners_;
  }
  if (!events.empty()) cv_.notify_all();
  for (const HubEvent& e : events) {
    for (const auto& l : listeners) l(e);
  }
}

void StatusHub::EmitLocked(const std::string& type, pc::Json data, std::vector<HubEvent>* out) {
  HubEvent e;
  e.id = next_id_++;
  e.type = type;
  e.data = std::move(data);
  ring_.push_back(e);
  if (ring_.size() > kRing) ring_.pop_front();
  out->push_back(std::move(e));
}

void StatusHub::Forget(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.erase(name);
  }
  std::lock_guard<std::mutex> lock(images_->mu);
  images_->images.erase(name);
}

void StatusHub::SetImage(const std::string& name, const std::string& camera_id, std::string bytes) {
  std::shared_ptr<const Image> image = MakeImage(camera_id, std::move(bytes));
  std::lock_guard<std::mutex> lock(images_->mu);
  images_->images[name] = std::move(image);
}

std::optional<PrinterReport> StatusHub::Last(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reports_.find(name);
  if (it == reports_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Image> StatusHub::LastImage(const std::string& name) const {
  std::lock_guard<std::mutex> lock(images_->mu);
  auto it = images_->images.find(name);
  return it == images_->images.end() ? nullptr : it->second;
}

std::vector<HubEvent> StatusHub::EventsAfter(uint64_t after, int64_t wait_ms, bool* lost) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
               [&] { return closed_ || next_id_ - 1 > after; });
  *lost = !ring_.empty() && ring_.front().id > after + 1;
  std::vector<HubEvent> out;
  for (const HubEvent& e : ring_) {
    if (e.id > after) out.push_back(e);
  }
  return out;
}

uint64_t StatusHub::last_event_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_id_ - 1;
}

void StatusHub::AddListener(std::function<void(const HubEvent&)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.push_back(std::move(listener));
}

void StatusHub::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool StatusHub::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

std::shared_ptr<pc::CameraDriver> StatusHub::Keeping(const std::string& printer,
                                                     const std::string& camera_id,
                                                     std::shared_ptr<pc::CameraDriver> inner) {
  return std::make_shared<KeepingDriver<ImageStore>>(images_, printer, camera_id, std::move(inner));
}

void ReportToJson(const PrinterReport& r, pc::Json* out) {
  const hostio::Reported& rep = r.reported;
  const pc::Telemetry& t = rep.telemetry;
  out->set("state", pc::ToString(rep.state));
  out->set("reason", rep.reason);
  out->set("updated", r.time);
  pc::Json temps = pc::Json::MakeObject();
  SetOpt(&temps, "nozzle", t.temp_nozzle);
  SetOpt(&temps, "target_nozzle", t.target_nozzle);
  SetOpt(&temps, "bed", t.temp_bed);
  SetOpt(&temps, "target_bed", t.target_bed);
  out->set("temperatures", std::move(temps));
  if (rep.job_id || !rep.job_file.empty()) {
    pc::Json job = pc::Json::MakeObject();
    SetOpt(&job, "id", rep.job_id);
    job.set("file", rep.job_file);
    SetOpt(&job, "progress", t.progress);
    SetOpt(&job, "time_printing", t.time_printing);
    SetOpt(&job, "time_remaining", t.time_remaining);
    out->set("job", std::move(job));
  } else {
    out->set("job", pc::Json());
  }
  if (r.last_error.empty()) {
    out->set("last_error", pc::Json());
  } else {
    pc::Json e = pc::Json::MakeObject();
    e.set("text", r.last_error);
    e.set("time", r.last_error_time);
    out->set("last_error", std::move(e));
  }
  out->set("telemetry", t.ToJson());
}

}  // namespace bridge
