// Copyright 2026 The libprusaconnect Authors.
#include "protocol/command_lifecycle.h"

#include <algorithm>
#include <utility>

#include "util/str_cat.h"

namespace prusaconnect::internal {
namespace {

Event TerminalLastState(Event e) {
  return (e == Event::REJECTED || e == Event::FAILED) ? e : Event::FINISHED;
}

}  // namespace

bool CommandLifecycle::CheckState(int64_t id, const std::string& name, EventSink& sink,
                                  bool* preempted) {
  EventFields f;
  f.command_id = id;
  Command c;
  if (Parse(name, &c) && IsPriorityCommand(c)) {
    if (has_id_ && id == command_id_) {
      // A re-sent priority command is answered like any duplicate (Q7 fix).
      sink.Emit(accepted_ ? Event::ACCEPTED : last_state_, Source::CONNECT, f, Json(), nullptr);
      return false;
    }
    if (accepted_) {
      int64_t old_id = command_id_;
      if (run_ == RunState::kRunning) {
        // Its handler ends later with its own id; that must not tear down
        // the priority command (Q7 fix).
        preempted_.push_back(old_id);
        if (preempted_.size() > 16) preempted_.erase(preempted_.begin());
      } else {
        EventFields old;
        old.command_id = old_id;
        old.reason = "Interrupted by " + name;
        sink.Emit(Event::REJECTED, Source::CONNECT, old, Json(), nullptr);
      }
      *preempted = true;
    }
    return true;
  }
  if (accepted_) {
    if (id != command_id_) {
      f.reason = "Another command is running";
      sink.Emit(Event::REJECTED, Source::CONNECT, f,
                Json::MakeObject({{"actual_command_id", command_id_}}), nullptr);
    } else {
      sink.Emit(Event::ACCEPTED, Source::CONNECT, f, Json(), nullptr);
    }
    return false;
  }
  if (has_id_ && id == command_id_) {
    sink.Emit(last_state_, Source::CONNECT, f, Json(), nullptr);
    return false;
  }
  return true;
}

bool CommandLifecycle::CheckDefinition(int64_t id, const std::string& name, Json* kwargs,
                                       State state, EventSink& sink) {
  const CommandDefinition* d = FindCommand(definitions_, name);
  if (d == nullptr) return true;  // no definition: as without any
  // The state is the printer's as reported; kwargs gain the defaults (a
  // refused command's kwargs are dropped with it).
  Status s = ValidateCommand(*d, kwargs, state);
  if (!s.ok()) {
    EventFields f;
    f.command_id = id;
    f.reason = s.message();
    sink.Emit(Event::REJECTED, Source::WUI, f, Json(), nullptr);
    has_id_ = true;
    command_id_ = id;
    last_state_ = Event::REJECTED;
    return false;
  }
  return true;
}

void CommandLifecycle::Accept(int64_t id, std::string name, Json args, Json kwargs, bool force,
                              EventSink& sink) {
  accepted_ = true;
  has_id_ = true;
  command_id_ = id;
  command_name_ = std::move(name);
  // Absent args / kwargs stay null, as the SDK's accept(args=None,
  // kwargs=None): a handler that echoes caller.args sends no "args" key.
  args_ = std::move(args);
  kwargs_ = std::move(kwargs);
  force_ = force;
  run_ = RunState::kPending;
  EventFields f;
  f.command_id = id;
  sink.Emit(Event::ACCEPTED, Source::CONNECT, f, Json(), nullptr);
}

void CommandLifecycle::EndCurrent(int64_t id, Event event, Source source, EventFields fields,
                                  const Json& data, EventSink& sink, std::string* head) {
  fields.command_id = id;
  sink.Emit(event, source, fields, data, head);
  if (accepted_ && id == command_id_) {
    last_state_ = TerminalLastState(event);
    accepted_ = false;
    run_ = RunState::kIdle;
  }
}

Status CommandLifecycle::End(std::optional<int64_t> command_id, Event event, Source source,
                             EventFields fields, const Json& data, EventSink& sink,
                             std::string* head) {
  int64_t id = command_id.value_or(command_id_);
  bool current = accepted_ && id == command_id_;
  auto pre = std::find(preempted_.begin(), preempted_.end(), id);
  if (!current && pre == preempted_.end()) {
    return FailedPreconditionError(StrCat("no command ", id, " is running"));
  }
  if (!current) preempted_.erase(pre);
  EndCurrent(id, event, source, std::move(fields), data, sink, head);
  return Status();
}

std::optional<CommandRequest> CommandLifecycle::StartRun() {
  if (!pending()) return std::nullopt;
  run_ = RunState::kRunning;
  return current();
}

std::optional<int64_t> CommandLifecycle::accepted_id() const {
  if (!accepted_) return std::nullopt;
  return command_id_;
}

std::optional<CommandRequest> CommandLifecycle::current() const {
  if (!accepted_) return std::nullopt;
  CommandRequest req;
  req.command_id = command_id_;
  req.command_name = command_name_;
  Command c;
  if (Parse(command_name_, &c)) req.command = c;
  req.args = args_;
  req.kwargs = kwargs_;
  req.force = force_;
  return req;
}

void CommandLifecycle::set_definitions(std::vector<CommandDefinition> definitions) {
  definitions_json_ = definitions.empty() ? Json() : ToJson(definitions);
  definitions_ = std::move(definitions);
}

}  // namespace prusaconnect::internal
