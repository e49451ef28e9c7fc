// Copyright 2026 The libprusaconnect Authors.
//
// CommandLifecycle: the SDK's Command object (command.py) — which command is
// accepted, whether it is waiting for its handler or running, how it ended —
// and the rules for a command that arrives: duplicates, a second command
// while one runs, priority commands preempting the running one (quirk Q7),
// and the check against the printer's command definitions. It decides and
// queues the answers through an EventSink; it runs no handler (the facade
// does, see facade/printer_session.h). Single-threaded.
#ifndef PRUSACONNECT_PROTOCOL_COMMAND_LIFECYCLE_H_
#define PRUSACONNECT_PROTOCOL_COMMAND_LIFECYCLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prusaconnect/commands.h"
#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/status.h"

namespace prusaconnect::internal {

// Where the lifecycle's answers go (the core's event queue). With `head`
// (AppendEventHead's text, data already written) `data` is ignored.
class EventSink {
 public:
  virtual void Emit(Event event, Source source, EventFields fields, const Json& data,
                    std::string* head) = 0;

 protected:
  ~EventSink() = default;
};

class CommandLifecycle {
 public:
  // Decides whether command `id` named `name` may be accepted; queues the
  // answer when not (a duplicate gets its state again, a second command is
  // REJECTED). A priority command is accepted over a running one; then
  // *preempted is set (the host's stop callback must run).
  bool CheckState(int64_t id, const std::string& name, EventSink& sink, bool* preempted);
  // Checks a command that has a definition against it in printer state
  // `state`: REJECTED with the reason (and false) when it does not match;
  // `kwargs` gains the defaults. Without a definition: true.
  bool CheckDefinition(int64_t id, const std::string& name, Json* kwargs, State state,
                       EventSink& sink);
  // Accepts the command (ACCEPTED is queued); it waits for its handler.
  void Accept(int64_t id, std::string name, Json args, Json kwargs, bool force, EventSink& sink);
  // Ends command `id` (default: the current one) with `event`, queued with
  // `fields` and `data`. FailedPrecondition when no such command runs.
  Status End(std::optional<int64_t> id, Event event, Source source, EventFields fields,
             const Json& data, EventSink& sink, std::string* head = nullptr);
  // Marks the command waiting for its handler as running and returns it;
  // nullopt when none waits.
  std::optional<CommandRequest> StartRun();

  // A command waits for its handler.
  bool pending() const { return accepted_ && run_ == RunState::kPending; }
  // Command `id` is the accepted one (not ended yet).
  bool running(int64_t id) const { return accepted_ && command_id_ == id; }
  // The accepted command's id, if any (telemetry carries it).
  std::optional<int64_t> accepted_id() const;
  std::optional<CommandRequest> current() const;
  // ACCEPTED while a command runs, else how the last one ended.
  Event last_state() const { return accepted_ ? Event::ACCEPTED : last_state_; }

  // The definitions commands are checked against; their INFO form (null
  // when none).
  void set_definitions(std::vector<CommandDefinition> definitions);
  const std::vector<CommandDefinition>& definitions() const { return definitions_; }
  const Json& definitions_json() const { return definitions_json_; }

 private:
  enum class RunState { kIdle, kPending, kRunning };
  void EndCurrent(int64_t id, Event event, Source source, EventFields fields, const Json& data,
                  EventSink& sink, std::string* head);

  bool accepted_ = false;
  Event last_state_ = Event::REJECTED;
  int64_t command_id_ = -1;
  bool has_id_ = false;  // command_id_ is a real id (never ran one: false)
  std::string command_name_;
  Json args_;
  Json kwargs_;
  bool force_ = false;
  RunState run_ = RunState::kIdle;
  std::vector<int64_t> preempted_;  // running commands a priority command replaced
  std::vector<CommandDefinition> definitions_;
  Json definitions_json_;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_COMMAND_LIFECYCLE_H_
