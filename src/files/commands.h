// Copyright 2026 The libprusaconnect Authors.
//
// The file commands Connect sends (SEND_FILE_INFO, CREATE_FOLDER /
// CREATE_DIRECTORY, DELETE_FILE, DELETE_FOLDER / DELETE_DIRECTORY), answered
// from a Filesystem as the SDK's built-in handlers do (sdk-spec §5.3-5.6).
//
// Every refusal ends the command with FAILED, source WUI (as the SDK's
// handler errors), a `reason` a person can read ("File is read only",
// "Forbidden character '#' in name \"a#b\"") and the same text in
// data.error, where the SDK put the exception.
//
// Thread safety: the handlers may run on any thread.
#ifndef PRUSACONNECT_FILES_COMMANDS_H_
#define PRUSACONNECT_FILES_COMMANDS_H_

#include <memory>
#include <string>

#include "prusaconnect/files.h"
#include "prusaconnect/models.h"

namespace prusaconnect::internal {

class Session;

// The refusal every library-provided command handler answers with (file and
// transfer commands): FAILED from WUI, `message` as the reason and as
// data.error.
CommandResult Refused(const std::string& message);

// The handler of `command` (one of the file commands) on `fs`.
CommandHandler FileCommandHandler(Command command, std::shared_ptr<Filesystem> fs);

// Installs the file command handlers beneath the host's (SetDefaultHandler)
// and the SEND_INFO tree (set_files_provider).
void InstallFileCommands(Session* session, std::shared_ptr<Filesystem> fs);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_COMMANDS_H_
