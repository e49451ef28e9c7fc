// Copyright 2026 The libprusaconnect Authors.
#include "notifier.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "adapter_log.h"

namespace bridge {

namespace pc = prusaconnect;
using octoprint_adapter::LogInfo;
using octoprint_adapter::LogWarning;

namespace {

constexpr int64_t kFreshPhotoWaitMs = 10000;

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

// OpenSSL's base64 (one line, no newlines), for images in webhook bodies.
std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string Minutes(int64_t s) {
  int64_t h = s / 3600, m = (s % 3600) / 60;
  return h > 0 ? std::to_string(h) + " h " + std::to_string(m) + " min"
               : std::to_string(m) + " min";
}

std::string Str(const pc::Json& j, const char* key) {
  const pc::Json* v = j.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

int64_t Int(const pc::Json& j, const char* key, int64_t fallback = -1) {
  const pc::Json* v = j.find(key);
  return v != nullptr && v->is_number() ? v->as_int() : fallback;
}

// The seconds a 429 asks to wait: Telegram's parameters.retry_after, else
// a Retry-After header; at least 1.
int64_t RetryAfter(const std::string& body, const std::string& header) {
  int64_t s = 0;
  if (pc::StatusOr<pc::Json> j = pc::Json::Parse(body); j.ok() && j->is_object()) {
    if (const pc::Json* p = j->find("parameters"); p != nullptr && p->is_object()) {
      s = Int(*p, "retry_after", 0);
    }
  }
  if (s <= 0 && !header.empty()) s = std::atoll(header.c_str());
  return std::max<int64_t>(s, 1);
}

}  // namespace

std::string WebhookSignature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return "sha256=" + Hex(mac, len);
}

Notifier::Notifier(StatusHub* hub, std::vector<NotifyEntry> channels,
                   std::function<void(const std::string&)> trigger_photo)
    : hub_(hub), trigger_photo_(std::move(trigger_photo)), channels_(std::move(channels)) {
  counters_.resize(channels_.size());
}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Notifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::SetChannels(std::vector<NotifyEntry> channels) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < channels.size(); ++i) index[channels[i].name] = i;
  std::vector<Counters> counters(channels.size());
  for (size_t i = 0; i < channels.size(); ++i) {
    // A channel that comes back keeps its counters (they never go down).
    auto back = retired_.find(channels[i].name);
    if (back != retired_.end()) {
      counters[i] = back->second;
      retired_.erase(back);
    }
  }
  for (size_t i = 0; i < channels_.size(); ++i) {
    auto it = index.find(channels_[i].name);
    if (it != index.end()) {
      counters[it->second] = counters_[i];
    } else {
      retired_[channels_[i].name] = counters_[i];
    }
  }
  std::deque<Item> kept;
  for (Item& item : queue_) {
    auto it = index.find(channels_[item.channel].name);
    if (it == index.end()) continue;
    item.channel = it->second;
    kept.push_back(std::move(item));
  }
  queue_.swap(kept);
  std::map<std::pair<size_t, std::string>, Printing> printing;
  for (auto& [key, p] : printing_) {
    auto it = index.find(channels_[key.first].name);
    if (it != index.end()) printing[{it->second, key.second}] = p;
  }
  printing_.swap(printing);
  channels_ = std::move(channels);
  counters_ = std::move(counters);
}

bool Notifier::Wants(const NotifyEntry& c, const std::string& printer) const {
  return c.printers.empty() ||
         std::find(c.printers.begin(), c.printers.end(), printer) != c.printers.end();
}

void Notifier::EnqueueLocked(size_t channel, Message m) {
  if (queue_.size() >= kQueue) {
    ++counters_[queue_.front().channel].dropped;
    queue_.pop_front();
  }
  Item item;
  item.channel = channel;
  item.message = std::move(m);
  item.due = Clock::now();
  queue_.push_back(std::move(item));
}

void Notifier::OnEvent(const HubEvent& e) {
  const pc::Json& d = e.data;
  std::string printer = Str(d, "printer");
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  for (size_t i = 0; i < channels_.size(); ++i) {
    const NotifyEntry& c = channels_[i];
    if (!Wants(c, printer)) continue;
    Message m;
    m.printer = printer;
    m.data = pc::Json::MakeObject();
    m.data.set("printer", printer);
    m.data.set("time", static_cast<int64_t>(std::time(nullptr)));
    if (e.type == "job") {
      std::string file = Str(d, "file");
      std::string state = Str(d, "state");
      m.data.set("job", pc::Json::MakeObject({{"id", Int(d, "job_id")}, {"file", file}}));
      m.data.set("state", state);
      if (Str(d, "event") == "started") {
        Printing& p = printing_[{i, printer}];
        p = Printing{};
        p.last_photo = Clock::now();
        p.file = file;
        if (!c.job_started) continue;
        m.event = "job_started";
        m.text = printer + ": started " + file;
      } else {
        printing_.erase({i, printer});
        if (state == "FINISHED") {
          m.event = "job_finished";
          m.text = printer + ": finished " + file;
        } else if (state == "STOPPED") {
          m.event = "job_stopped";
          m.text = printer + ": stopped " + file;
        } else {
          m.event = "job_failed";
          m.text = printer + ": " + file + " failed (" + state + ")";
        }
        if (c.final_photo) {
          m.photo = true;
          m.fresh_photo = true;
        } else if (!c.state_changes) {
          continue;
        }
      }
    } else if (e.type == "progress") {
      auto found = printing_.find({i, printer});
      if (found == printing_.end()) {
        // A job that was running when the bridge (or the printer) started:
        // no "started" came; follow it (photos, progress) from here.
        Printing p;
        p.last_photo = Clock::now();
        p.file = Str(d, "file");
        if (c.progress_every > 0) {
          p.last_progress_step = static_cast<int>(Int(d, "progress", 0) / c.progress_every);
        }
        printing_.emplace(std::make_pair(i, printer), p);
        continue;
      }
      if (c.progress_every <= 0) continue;
      int64_t progress = Int(d, "progress", 0);
      int step = static_cast<int>(progress / c.progress_every);
      if (step <= found->second.last_progress_step || progress >= 100) continue;
      found->second.last_progress_step = step;
      m.event = "progress";
      int64_t left = Int(d, "time_remaining");
      m.text = printer + ": " + Str(d, "file") + " " + std::to_string(progress) + " %" +
               (left >= 0 ? ", " + Minutes(left) + " left" : "");
      m.data.set("progress", progress);
      m.data.set("time_remaining", left >= 0 ? pc::Json(left) : pc::Json());
      m.data.set("job", pc::Json::MakeObject({{"file", Str(d, "file")}}));
    } else if (e.type == "state") {
      const pc::Json* prev = d.find("previous");
      if (prev == nullptr || !prev->is_string()) continue;  // the bridge just started
      std::string state = Str(d, "state");
      std::string reason = Str(d, "reason");
      m.data.set("state", state);
      m.data.set("previous", prev->as_string());
      m.data.set("reason", reason);
      const pc::Json* reachable = d.find("reachable");
      bool lost = reachable != nullptr && reachable->is_bool() && !reachable->as_bool();
      if (state == "ERROR" || state == "ATTENTION") {
        // An unreachable host is told once, as "lost".
        if (!c.errors || (lost && c.printer_lost)) continue;
        m.event = "error";
        m.text = printer + ": " + state + (reason.empty() ? "" : ": " + reason);
      } else {
        // Job starts and ends have their own messages.
        bool job_news = (state == "PRINTING" && prev->as_string() != "PAUSED") ||
                        state == "FINISHED" || state == "STOPPED";
        if (!c.state_changes || job_news || state == "BUSY") continue;
        m.event = "state";
        m.text = printer + ": " + state +
                 (prev->as_string() == "PAUSED" && state == "PRINTING" ? " (resumed)" : "");
      }
    } else if (e.type == "host") {
      if (!c.printer_lost) continue;
      const pc::Json* up = d.find("reachable");
      bool reachable = up != nullptr && up->is_bool() && up->as_bool();
      m.event = reachable ? "printer_back" : "printer_lost";
      m.text = reachable ? printer + ": its host answers again"
                         : printer + ": lost (" + Str(d, "reason") + ")";
      m.data.set("reason", Str(d, "reason"));
    } else {
      continue;
    }
    m.data.set("event", m.event);
    m.data.set("text", m.text);
    EnqueueLocked(i, std::move(m));
  }
  cv_.notify_all();
}

void Notifier::PeriodicPhotosLocked() {
  Clock::time_point now = Clock::now();
  for (auto& [key, p] : printing_) {
    const NotifyEntry& c = channels_[key.first];
    if (c.photo_every_minutes <= 0) continue;
    if (now - p.last_photo < std::chrono::duration<double, std::ratio<60>>(c.photo_every_minutes)) {
      continue;
    }
    p.last_photo = now;
    Message m;
    m.event = "photo";
    m.printer = key.second;
    m.text = key.second + ": " + p.file;
    std::optional<PrinterReport> r = hub_->Last(key.second);
    if (r && r->reported.telemetry.progress) {
      m.text += " " + std::to_string(*r->reported.telemetry.progress) + " %";
    }
    m.photo = true;
    m.fresh_photo = true;
    m.data = pc::Json::MakeObject({{"event", "photo"},
                                   {"printer", key.second},
                                   {"text", m.text},
                                   {"time", static_cast<int64_t>(std::time(nullptr))}});
    EnqueueLocked(key.first, std::move(m));
  }
}

std::string Notifier::Photo(const Message& m) {
  std::shared_ptr<const Image> before = hub_->LastImage(m.printer);
  if (m.fresh_photo && trigger_photo_) {
    int64_t asked = static_cast<int64_t>(std::time(nullptr));
    trigger_photo_(m.printer);
    auto until = Clock::now() + std::chrono::milliseconds(kFreshPhotoWaitMs);
    while (Clock::now() < until) {
      std::shared_ptr<const Image> now = hub_->LastImage(m.printer);
      if (now && now != before && now->time >= asked) return now->bytes;
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) break;
    }
  }
  std::shared_ptr<const Image> image = hub_->LastImage(m.printer);
  return image ? image->bytes : std::string();
}

int64_t Notifier::Send(const NotifyEntry& c, const Message& m, std::string* why) {
  std::string image = m.photo ? Photo(m) : std::string();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    *why = "cannot make a curl handle";
    return 5000;
  }
  std::string body, response, retry_header;
  struct curl_slist* headers = nullptr;
  curl_mime* mime = nullptr;
  std::string url;
  if (c.kind == "telegram") {
    std::string base = c.api_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!image.empty()) {
      url = base + "/bot" + c.bot_token + "/sendPhoto";
      mime = curl_mime_init(curl);
      auto field = [&](const char* name, const std::string& value) {
        curl_mimepart* part = curl_mime_addpart(mime);
        curl_mime_name(part, name);
        curl_mime_data(part, value.data(), value.size());
      };
      field("chat_id", c.chat_id);
      field("caption", m.text);
      if (c.message_thread_id != 0) field("message_thread_id", std::to_string(c.message_thread_id));
      curl_mimepart* photo = curl_mime_addpart(mime);
      curl_mime_name(photo, "photo");
      curl_mime_filename(photo, image.compare(1, 3, "PNG") == 0 ? "photo.png" : "photo.jpg");
      curl_mime_type(photo, image.compare(1, 3, "PNG") == 0 ? "image/png" : "image/jpeg");
      curl_mime_data(photo, image.data(), image.size());
      curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    } else {
      url = base + "/bot" + c.bot_token + "/sendMessage";
      pc::Json j = pc::Json::MakeObject({{"chat_id", c.chat_id}, {"text", m.text}});
      if (c.message_thread_id != 0) j.set("message_thread_id", c.message_thread_id);
      body = j.Dump();
      headers = curl_slist_append(headers, "Content-Type: application/json");
    }
  } else {
    url = c.url;
    pc::Json j = m.data;
    if (!image.empty()) {
      j.set("image",
            pc::Json::MakeObject(
                {{"content_type", image.compare(1, 3, "PNG") == 0 ? "image/png" : "image/jpeg"},
                 {"base64", Base64(image)}}));
    }
    body = j.Dump();
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, ("X-PrusaConnect-Event: " + m.event).c_str());
    if (!c.secret.empty()) {
      headers = curl_slist_append(
          headers, ("X-PrusaConnect-Signature: " + WebhookSignature(c.secret, body)).c_str());
    }
  }
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "prusaconnect-bridge");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, c.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, c.verify_tls ? 2L : 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Stop() does not wait out a slow receiver.
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &abort_);
  curl_easy_setopt(
      curl, CURLOPT_XFERINFOFUNCTION,
      +[](void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
        return static_cast<std::atomic<bool>*>(flag)->load() ? 1 : 0;
      });
  curl_easy_setopt(
      curl, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
        std::string line(data, size * n);
        if (line.size() > 12 && strncasecmp(line.c_str(), "Retry-After:", 12) == 0) {
          *static_cast<std::string*>(out) = line.substr(12);
        }
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_header);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (mime != nullptr) curl_mime_free(mime);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    // curl's text names the host at most, never the path with the token.
    *why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    return 1;  // retry with backoff
  }
  if (status >= 200 && status < 300) return 0;
  std::string description;
  if (pc::StatusOr<pc::Json> j = pc::Json::Parse(response); j.ok() && j->is_object()) {
    description = Str(*j, "description");
  }
  *why = "HTTP " + std::to_string(status) + (description.empty() ? "" : ": " + description);
  if (status == 429) return RetryAfter(response, retry_header) * 1000;
  if (status >= 500) return 1;
  return -1;  // refused for good (bad token, chat, URL)
}

void Notifier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    PeriodicPhotosLocked();
    Clock::time_point now = Clock::now();
    auto next = std::min_element(queue_.begin(), queue_.end(),
                                 [](const Item& a, const Item& b) { return a.due < b.due; });
    if (next == queue_.end() || next->due > now) {
      Clock::time_point wake = now + std::chrono::seconds(1);
      if (next != queue_.end()) wake = std::min(wake, next->due);
      cv_.wait_until(lock, wake);
      continue;
    }
    Item item = std::move(*next);
    queue_.erase(next);
    NotifyEntry channel = channels_[item.channel];
    lock.unlock();
    std::string why;
    int64_t result = Send(channel, item.message, &why);
    lock.lock();
    // The channel may be gone (reload) while we sent.
    size_t idx = channels_.size();
    for (size_t i = 0; i < channels_.size(); ++i) {
      if (channels_[i].name == channel.name) idx = i;
    }
    Counters* counters = idx < counters_.size() ? &counters_[idx] : &retired_[channel.name];
    if (result == 0) {
      ++counters->sent;
      if (counters->failing) {
        counters->failing = false;
        LogInfo("notifications to " + channel.name + " work again");
      }
      continue;
    }
    ++counters->failed;
    if (!counters->failing) {
      counters->failing = true;
      LogWarning("notifications to " + channel.name + " fail: " + why +
                 (result < 0 ? " (not retried)" : "; retrying"));
    }
    ++item.attempts;
    if (result < 0 || item.attempts >= kAttempts || idx >= channels_.size()) {
      ++counters->dropped;
      continue;
    }
    item.channel = idx;
    int64_t delay = result > 1 ? result : int64_t{1000} << (item.attempts - 1);
    item.due = Clock::now() + std::chrono::milliseconds(delay);
    queue_.push_back(std::move(item));
  }
}

std::string Notifier::Metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sent, failed, dropped;
  auto add = [&](const std::string& name, const Counters& c) {
    std::string l = "{channel=\"" + name + "\"} ";
    sent += "prusaconnect_bridge_notifications_sent_total" + l + std::to_string(c.sent) + "\n";
    failed +=
        "prusaconnect_bridge_notifications_failed_total" + l + std::to_string(c.failed) + "\n";
    dropped +=
        "prusaconnect_bridge_notifications_dropped_total" + l + std::to_string(c.dropped) + "\n";
  };
  for (size_t i = 0; i < channels_.size(); ++i) add(channels_[i].name, counters_[i]);
  for (const auto& r : retired_) add(r.first, r.second);
  return "# HELP prusaconnect_bridge_notifications_sent_total Notifications delivered.\n"
         "# TYPE prusaconnect_bridge_notifications_sent_total counter\n" +
         sent +
         "# HELP prusaconnect_bridge_notifications_failed_total Failed attempts (retried or "
         "not).\n"
         "# TYPE prusaconnect_bridge_notifications_failed_total counter\n" +
         failed +
         "# HELP prusaconnect_bridge_notifications_dropped_total Notifications given up or "
         "pushed out of a full queue.\n"
         "# TYPE prusaconnect_bridge_notifications_dropped_total counter\n" +
         dropped;
}

}  // namespace bridge
