// Copyright 2026 The libprusaconnect Authors.
//
// START_URL_DOWNLOAD, START_CONNECT_DOWNLOAD, STOP_TRANSFER and
// SEND_TRANSFER_INFO as the SDK answers them (sdk-spec.md §5.7–5.10), with
// every refusal a FAILED event whose reason a person can read (as the file
// commands: files/commands.cc).
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "files/commands.h"
#include "protocol/session.h"
#include "transfer/transfer.h"
#include "transport/fetch.h"
#include "util/url.h"

namespace prusaconnect::internal {
namespace {

// kwargs[key] as text (strings as they are, integers in decimal), or a
// refusal naming it as the SDK does.
bool Kwarg(const CommandRequest& req, const char* key, std::string* out, CommandResult* refusal) {
  const Json* v = req.kwargs.is_object() ? req.kwargs.find(key) : nullptr;
  if (v == nullptr) {
    *refusal = Refused("Command." + req.command_name + " requires kwarg '" + key + "'.");
    return false;
  }
  if (v->is_string()) {
    *out = v->as_string();
  } else if (v->is_int()) {
    *out = std::to_string(v->as_int());
  } else {
    *refusal = Refused("Command." + req.command_name + ": kwarg '" + key + "' must be a string");
    return false;
  }
  return true;
}

bool Flag(const CommandRequest& req, const char* key) {
  const Json* v = req.kwargs.find(key);
  return v != nullptr && v->truthy();
}

// kwargs["transfer_id"] when truthy (Q25: 0 and a top-level id are ignored).
std::optional<uint32_t> TransferIdKwarg(const CommandRequest& req) {
  const Json* v = req.kwargs.is_object() ? req.kwargs.find("transfer_id") : nullptr;
  if (v == nullptr || !v->truthy() || !v->is_number()) return std::nullopt;
  return static_cast<uint32_t>(v->as_int());
}

CommandResult TransferInfoResult(const TransferInfo& info) {
  CommandResult r;
  r.event = Event::TRANSFER_INFO;
  r.source = Source::CONNECT;
  r.data = info.ToJson();
  if (info.in_progress) {
    r.transfer_id = info.transfer_id;
    r.data.erase("transfer_id");
  }
  return r;
}

CommandResult Started(const StatusOr<TransferInfo>& started) {
  if (started.ok()) return TransferInfoResult(*started);
  if (started.status().code() == StatusCode::kAlreadyExists) {
    // As the SDK (Q24): REJECTED with the reason.
    CommandResult r;
    r.event = Event::REJECTED;
    r.source = Source::CONNECT;
    r.reason = started.status().message();
    return r;
  }
  return Refused(started.status().message());
}

// Fills what both START_*_DOWNLOAD commands take the same way and starts.
CommandResult StartFrom(TransferManager& manager, const CommandRequest& req, TransferType type,
                        TransferManager::StartRequest r) {
  r.type = type;
  r.to_print = Flag(req, "printing");
  r.to_select = Flag(req, "selecting");
  r.start_cmd_id = req.command_id;
  return Started(manager.Start(r));
}

CommandHandler Handler(Command command, Session* session,
                       const std::shared_ptr<TransferManager>& manager) {
  std::weak_ptr<TransferManager> weak = manager;
  switch (command) {
    case Command::START_URL_DOWNLOAD:
      return [weak](const CommandRequest& req) -> StatusOr<CommandResult> {
        auto m = weak.lock();
        if (!m) return Refused("The printer is shutting down");
        if (!req.kwargs.truthy()) return Refused("Command.START_URL_DOWNLOAD requires kwargs");
        TransferManager::StartRequest r;
        CommandResult refusal;
        if (!Kwarg(req, "path", &r.path, &refusal) || !Kwarg(req, "url", &r.url, &refusal)) {
          return refusal;
        }
        return StartFrom(*m, req, TransferType::FROM_WEB, std::move(r));
      };
    case Command::START_CONNECT_DOWNLOAD:
      return [weak, session](const CommandRequest& req) -> StatusOr<CommandResult> {
        auto m = weak.lock();
        if (!m) return Refused("The printer is shutting down");
        if (!req.kwargs.truthy()) return Refused("Command.START_CONNECT_DOWNLOAD requires kwargs");
        std::string server = session->server();
        if (server.empty()) return Refused("Printer.server must be set!");
        TransferManager::StartRequest r;
        CommandResult refusal;
        // team_id and hash first, as the SDK checks them.
        if (!Kwarg(req, "team_id", &r.team_id, &refusal) ||
            !Kwarg(req, "hash", &r.hash, &refusal) || !Kwarg(req, "path", &r.path, &refusal)) {
          return refusal;
        }
        while (!server.empty() && server.back() == '/') server.pop_back();
        // Percent-encoded, unlike the SDK (Q22).
        r.url = server + "/p/teams/" + PercentEncode(r.team_id) + "/files/" +
                PercentEncode(r.hash) + "/raw";
        return StartFrom(*m, req, TransferType::FROM_CONNECT, std::move(r));
      };
    case Command::STOP_TRANSFER:
      return [weak](const CommandRequest& req) -> StatusOr<CommandResult> {
        auto m = weak.lock();
        if (!m) return Refused("The printer is shutting down");
        Status s = m->Stop(TransferIdKwarg(req));
        if (!s.ok()) return Refused(s.message());
        return CommandResult{};  // FINISHED; TRANSFER_STOPPED follows
      };
    case Command::SEND_TRANSFER_INFO:
      return [weak](const CommandRequest& req) -> StatusOr<CommandResult> {
        auto m = weak.lock();
        if (!m) return Refused("The printer is shutting down");
        TransferInfo info = m->Info();
        std::optional<uint32_t> id = TransferIdKwarg(req);
        if (id && *id != info.transfer_id) return Refused("Not current transfer.");
        return TransferInfoResult(info);
      };
    default:
      return nullptr;
  }
}

}  // namespace

void InstallTransferCommands(Session* session, const std::shared_ptr<TransferManager>& manager) {
  for (Command c : {Command::START_URL_DOWNLOAD, Command::START_CONNECT_DOWNLOAD,
                    Command::STOP_TRANSFER, Command::SEND_TRANSFER_INFO}) {
    session->SetDefaultHandler(c, manager ? Handler(c, session, manager) : nullptr);
  }
  if (manager) {
    std::weak_ptr<TransferManager> weak = manager;
    session->SetTransferProbe([weak]() -> std::optional<Session::TransferStatus> {
      auto m = weak.lock();
      return m ? m->Probe() : std::nullopt;
    });
  } else {
    session->SetTransferProbe(nullptr);
  }
}

}  // namespace prusaconnect::internal
