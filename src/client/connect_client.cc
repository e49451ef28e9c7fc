// Copyright 2026 The libprusaconnect Authors.
//
// ConnectClient (include/prusaconnect/client.h): Connect's user API over
// Fetch(), the library's one-request libcurl path, and the command check of
// protocol/command_definitions.cc.
#include "prusaconnect/client.h"

#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "transport/fetch.h"
#include "util/clock.h"
#include "util/str_cat.h"
#include "util/url.h"

namespace prusaconnect {
namespace {

using internal::StrCat;
using internal::StrJoin;

// Connect's error answer ({"code", "message", "reason"}) in one line.
std::string ErrorText(const std::string& body, int status) {
  StatusOr<Json> json = Json::Parse(body);
  if (json.ok() && json->is_object()) {
    const Json* message = json->find("message");
    const Json* reason = json->find("reason");
    std::string text = message != nullptr && message->is_string() ? message->as_string() : "";
    if (reason != nullptr && reason->is_string() && !reason->as_string().empty()) {
      text += text.empty() ? reason->as_string() : " (" + reason->as_string() + ")";
    }
    if (!text.empty()) return text;
  }
  std::string shown = body.substr(0, 200);
  return shown.empty() ? StrCat("HTTP ", status) : shown;
}

std::string StringField(const Json& j, const char* key) {
  const Json* v = j.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

RemotePrinter ToPrinter(const Json& j) {
  RemotePrinter p;
  p.uuid = StringField(j, "uuid");
  p.name = StringField(j, "name");
  p.state = StringField(j, "printer_state");
  if (p.state.empty()) p.state = StringField(j, "state");
  if (p.state.empty()) p.state = "UNKNOWN";
  p.printer_type = StringField(j, "printer_type");
  p.sn = StringField(j, "sn");
  p.firmware = StringField(j, "firmware");
  p.raw = j;
  return p;
}

}  // namespace

class ConnectClient::Impl {
 public:
  explicit Impl(ConnectClientOptions options) : options_(std::move(options)) {
    while (!options_.server.empty() && options_.server.back() == '/') options_.server.pop_back();
  }

  // One request; the JSON answer of a 2xx, else the mapped error.
  StatusOr<Json> Call(const std::string& method, const std::string& path,
                      const std::string& body = {}) {
    if (options_.token.empty()) {
      return PermissionDeniedError("no user API token (ConnectClientOptions::token)");
    }
    internal::FetchRequest request;
    request.url = options_.server + path;
    request.method = method;
    request.body = body;
    request.error_bodies = true;
    request.connect_timeout_ms = options_.timeout_ms;
    request.stall_timeout_ms = options_.timeout_ms;
    request.verify_tls = options_.verify_tls;
    request.ca_file = options_.ca_file;
    request.headers = {{"Authorization", "Bearer " + options_.token},
                       {"Accept", "application/json"},
                       {"User-Agent", "libprusaconnect-client"}};
    if (method == "POST") request.headers.emplace_back("Content-Type", "application/json");
    std::string answer;
    internal::FetchCallbacks callbacks;
    callbacks.on_data = [&answer](const char* data, size_t size) {
      if (answer.size() + size > (size_t{16} << 20)) return false;  // 16 MiB is no API answer
      answer.append(data, size);
      return true;
    };
    ++requests_;
    internal::FetchResult r = internal::Fetch(request, callbacks);
    std::string where = StrCat(method, " ", path);
    if (r.error != internal::TransportError::kNone) {
      return UnavailableError(StrCat("cannot reach Connect at ", options_.server, ": ", r.message));
    }
    if (r.ended_by_us) return DataLossError(StrCat(where, ": the answer is over 16 MiB"));
    if (r.status == 401 || r.status == 403) {
      return PermissionDeniedError(
          StrCat("Connect refused the token (", r.status, "): ", ErrorText(answer, r.status)));
    }
    if (r.status == 404) return NotFoundError(ErrorText(answer, r.status));
    if (r.status >= 500) {
      return UnavailableError(
          StrCat("Connect failed (", r.status, ") on ", where, ": ", ErrorText(answer, r.status)));
    }
    if (r.status < 200 || r.status >= 300) {
      return FailedPreconditionError(
          StrCat("Connect refused ", where, " (", r.status, "): ", ErrorText(answer, r.status)));
    }
    if (answer.empty()) return Json::MakeObject();
    StatusOr<Json> json = Json::Parse(answer);
    if (!json.ok()) {
      return DataLossError(StrCat(where, ": the answer is not JSON: ", json.status().message()));
    }
    return json;
  }

  StatusOr<std::vector<CommandDefinition>> Commands(const std::string& uuid, bool refresh) {
    int64_t now = internal::RealClock()->MonoMicros();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(uuid);
      if (!refresh && it != cache_.end() &&
          now - it->second.fetched_us < options_.commands_ttl_ms * 1000) {
        return it->second.definitions;
      }
    }
    StatusOr<Json> answer =
        Call("GET", "/app/printers/" + internal::PercentEncode(uuid) + "/supported-commands");
    if (!answer.ok()) return answer.status();
    StatusOr<std::vector<CommandDefinition>> definitions = ParseCommandDefinitions(*answer);
    if (!definitions.ok()) {
      return DataLossError(
          StrCat("the supported commands of ", uuid, ": ", definitions.status().message()));
    }
    std::lock_guard<std::mutex> lock(mu_);
    cache_[uuid] = Cached{*definitions, now};
    return definitions;
  }

  Status Validate(const std::string& uuid, const std::string& command, Json* kwargs) {
    StatusOr<std::vector<CommandDefinition>> definitions = Commands(uuid, false);
    if (!definitions.ok()) return definitions.status();
    const CommandDefinition* d = FindCommand(*definitions, command);
    if (d == nullptr) {
      std::string known =
          StrJoin(*definitions, ", ", [](const CommandDefinition& c) { return c.command; });
      return InvalidArgumentError(StrCat("printer ", uuid, " does not support ", command,
                                         known.empty() ? "" : " (it supports " + known + ")"));
    }
    ValidationOptions options;
    options.refuse_unknown_arguments = true;
    State state = State::BUSY;
    options.check_state = !d->executable_from_state.empty();
    if (options.check_state) {
      StatusOr<Json> printer = Call("GET", "/app/printers/" + internal::PercentEncode(uuid));
      if (!printer.ok()) return printer.status();
      std::string name = ToPrinter(*printer).state;
      if (!Parse(name, &state)) {
        return InvalidArgumentError(StrCat(command, " cannot run while the printer is ", name));
      }
    }
    return ValidateCommand(*d, kwargs, state, options);
  }

  ConnectClientOptions options_;
  std::atomic<uint64_t> requests_{0};
  struct Cached {
    std::vector<CommandDefinition> definitions;
    int64_t fetched_us = 0;
  };
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
};

ConnectClient::ConnectClient(ConnectClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ConnectClient::~ConnectClient() = default;

StatusOr<std::vector<RemotePrinter>> ConnectClient::printers() {
  std::vector<RemotePrinter> out;
  // Connect pages the list (limit/offset); read it all.
  constexpr int kPage = 100;
  for (int offset = 0;; offset += kPage) {
    StatusOr<Json> answer =
        impl_->Call("GET", StrCat("/app/printers?limit=", kPage, "&offset=", offset));
    if (!answer.ok()) return answer.status();
    const Json* list = answer->is_array() ? &*answer : answer->find("printers");
    if (list == nullptr || !list->is_array()) {
      return DataLossError("GET /app/printers: no \"printers\" list in the answer");
    }
    for (const Json& p : list->as_array()) out.push_back(ToPrinter(p));
    const Json* pager = answer->is_object() ? answer->find("pager") : nullptr;
    const Json* total = pager != nullptr ? pager->find("total") : nullptr;
    if (total == nullptr || !total->is_int() ||
        static_cast<int64_t>(out.size()) >= total->as_int() || list->size() == 0) {
      return out;
    }
  }
}

StatusOr<RemotePrinter> ConnectClient::printer(const std::string& uuid_or_name) {
  if (uuid_or_name.empty()) return InvalidArgumentError("no printer given");
  StatusOr<Json> answer =
      impl_->Call("GET", "/app/printers/" + internal::PercentEncode(uuid_or_name));
  if (answer.ok()) return ToPrinter(*answer);
  if (answer.status().code() != StatusCode::kNotFound) return answer.status();
  StatusOr<std::vector<RemotePrinter>> all = printers();
  if (!all.ok()) return all.status();
  const RemotePrinter* found = nullptr;
  for (const RemotePrinter& p : *all) {
    if (p.name != uuid_or_name) continue;
    if (found != nullptr) {
      return InvalidArgumentError(StrCat("two printers are named ", uuid_or_name,
                                         ": use the uuid (", found->uuid, ", ", p.uuid, ")"));
    }
    found = &p;
  }
  if (found == nullptr) return NotFoundError(StrCat("no printer ", uuid_or_name, " in Connect"));
  return *found;
}

StatusOr<std::vector<CommandDefinition>> ConnectClient::supported_commands(
    const std::string& printer_uuid, bool refresh) {
  return impl_->Commands(printer_uuid, refresh);
}

void ConnectClient::invalidate_commands(const std::string& printer_uuid) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  if (printer_uuid.empty()) {
    impl_->cache_.clear();
  } else {
    impl_->cache_.erase(printer_uuid);
  }
}

Status ConnectClient::validate_command(const std::string& printer_uuid, const std::string& command,
                                       Json* kwargs) {
  return impl_->Validate(printer_uuid, command, kwargs);
}

StatusOr<Json> ConnectClient::send_command(const std::string& printer_uuid,
                                           const std::string& command, Json kwargs) {
  if (Status s = impl_->Validate(printer_uuid, command, &kwargs); !s.ok()) return s;
  Json body = Json::MakeObject({{"command", command}});
  if (kwargs.is_object() && kwargs.size() > 0) body.set("kwargs", std::move(kwargs));
  return impl_->Call("POST",
                     "/app/printers/" + internal::PercentEncode(printer_uuid) + "/commands/sync",
                     body.Dump());
}

uint64_t ConnectClient::requests_sent() const { return impl_->requests_; }

}  // namespace prusaconnect
