// Copyright 2026 The libprusaconnect Authors.
#include "py_client.h"

#include <utility>
#include <vector>

namespace prusaconnect::python {
namespace {

Json Failed(const Status& s) {
  return Json::MakeObject(
      {{"ok", false}, {"code", StatusCodeName(s.code())}, {"message", s.message()}});
}

Json Ok(Json value) { return Json::MakeObject({{"ok", true}, {"value", std::move(value)}}); }

}  // namespace

Json standard_command_definitions(const Json& commands) {
  if (commands.is_null()) return ToJson(StandardCommandDefinitions());
  std::vector<Command> wanted;
  for (const Json& name : commands.as_array()) {
    Command c;
    if (Parse(name.as_string(), &c)) wanted.push_back(c);
  }
  return ToJson(StandardCommandDefinitions(wanted));
}

NativeConnectClient::NativeConnectClient(const std::string& server, const std::string& token,
                                         int64_t commands_ttl_ms, int64_t timeout_ms,
                                         bool verify_tls, const std::string& ca_file) {
  ConnectClientOptions o;
  o.server = server;
  o.token = token;
  o.commands_ttl_ms = commands_ttl_ms;
  o.timeout_ms = timeout_ms;
  o.verify_tls = verify_tls;
  o.ca_file = ca_file;
  client_ = std::make_unique<ConnectClient>(std::move(o));
}

NativeConnectClient::~NativeConnectClient() = default;

Json NativeConnectClient::printers() {
  StatusOr<std::vector<RemotePrinter>> all = client_->printers();
  if (!all.ok()) return Failed(all.status());
  Json list = Json::MakeArray();
  for (const RemotePrinter& p : *all) list.push_back(p.raw);
  return Ok(std::move(list));
}

Json NativeConnectClient::printer(const std::string& uuid_or_name) {
  StatusOr<RemotePrinter> p = client_->printer(uuid_or_name);
  return p.ok() ? Ok(p->raw) : Failed(p.status());
}

Json NativeConnectClient::supported_commands(const std::string& printer_uuid, bool refresh) {
  StatusOr<std::vector<CommandDefinition>> d = client_->supported_commands(printer_uuid, refresh);
  return d.ok() ? Ok(ToJson(*d)) : Failed(d.status());
}

void NativeConnectClient::invalidate_commands(const std::string& printer_uuid) {
  client_->invalidate_commands(printer_uuid);
}

Json NativeConnectClient::validate_command(const std::string& printer_uuid,
                                           const std::string& command, const Json& kwargs) {
  Json filled = kwargs;
  Status s = client_->validate_command(printer_uuid, command, &filled);
  return s.ok() ? Ok(std::move(filled)) : Failed(s);
}

Json NativeConnectClient::send_command(const std::string& printer_uuid, const std::string& command,
                                       const Json& kwargs) {
  StatusOr<Json> answer = client_->send_command(printer_uuid, command, kwargs);
  return answer.ok() ? Ok(std::move(*answer)) : Failed(answer.status());
}

int64_t NativeConnectClient::requests_sent() const {
  return static_cast<int64_t>(client_->requests_sent());
}

}  // namespace prusaconnect::python
