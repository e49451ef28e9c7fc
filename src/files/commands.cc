// Copyright 2026 The libprusaconnect Authors.
#include "files/commands.h"

#include <string>
#include <utility>

#include "protocol/session.h"

namespace prusaconnect::internal {

CommandResult Refused(const std::string& message) {
  CommandResult r;
  r.event = Event::FAILED;
  r.source = Source::WUI;
  r.reason = message;
  r.data = Json::MakeObject({{"error", message}});
  return r;
}

namespace {

// kwargs["path"], or the SDK's "<COMMAND> requires kwargs".
bool PathOf(const CommandRequest& req, std::string* path, CommandResult* refusal) {
  const Json* p = req.kwargs.is_object() ? req.kwargs.find("path") : nullptr;
  if (p == nullptr) {
    *refusal = Refused(req.command_name + " requires kwargs");
    return false;
  }
  if (!p->is_string()) {
    *refusal = Refused(req.command_name + ": kwarg 'path' must be a string");
    return false;
  }
  *path = p->as_string();
  return true;
}

}  // namespace

CommandHandler FileCommandHandler(Command command, std::shared_ptr<Filesystem> fs) {
  switch (command) {
    case Command::SEND_FILE_INFO:
      return [fs](const CommandRequest& req) -> StatusOr<CommandResult> {
        std::string path;
        CommandResult r;
        if (!PathOf(req, &path, &r)) return r;
        StatusOr<Json> info = fs->FileInfo(path);
        if (!info.ok()) return Refused(info.status().message());
        r.event = Event::FILE_INFO;
        r.source = Source::CONNECT;
        r.data = std::move(*info);
        return r;
      };
    case Command::CREATE_FOLDER:
    case Command::CREATE_DIRECTORY:
      return [fs](const CommandRequest& req) -> StatusOr<CommandResult> {
        std::string path;
        CommandResult r;
        if (!PathOf(req, &path, &r)) return r;
        Status s = fs->CreateFolder(path);
        if (!s.ok()) return Refused(s.message());
        return CommandResult{};  // FINISHED; FILE_CHANGED comes from the watcher
      };
    case Command::DELETE_FILE:
      return [fs](const CommandRequest& req) -> StatusOr<CommandResult> {
        std::string path;
        CommandResult r;
        if (!PathOf(req, &path, &r)) return r;
        Status s = fs->DeleteFile(path);
        if (!s.ok()) return Refused(s.message());
        return CommandResult{};
      };
    case Command::DELETE_FOLDER:
    case Command::DELETE_DIRECTORY:
      return [fs](const CommandRequest& req) -> StatusOr<CommandResult> {
        std::string path;
        CommandResult r;
        if (!PathOf(req, &path, &r)) return r;
        const Json* force = req.kwargs.find("force");
        Status s = fs->DeleteFolder(path, force != nullptr && force->truthy());
        if (!s.ok()) return Refused(s.message());
        return CommandResult{};
      };
    default:
      return nullptr;
  }
}

void InstallFileCommands(Session* session, std::shared_ptr<Filesystem> fs) {
  for (Command c : {Command::SEND_FILE_INFO, Command::CREATE_FOLDER, Command::CREATE_DIRECTORY,
                    Command::DELETE_FILE, Command::DELETE_FOLDER, Command::DELETE_DIRECTORY}) {
    session->SetDefaultHandler(c, fs ? FileCommandHandler(c, fs) : nullptr);
  }
  if (fs) {
    session->set_files_provider([fs] { return fs->ToDictLegacy(); });
    session->set_files_writer([fs](std::string* out) { fs->AppendLegacyJson(out); });
  } else {
    session->set_files_provider(nullptr);
    session->set_files_writer(nullptr);
  }
}

}  // namespace prusaconnect::internal
