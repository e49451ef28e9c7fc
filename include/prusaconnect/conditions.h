// Copyright 2026 The libprusaconnect Authors.
//
// Conditions describe what is known about the health of the link to Prusa
// Connect, as a tree of tri-state nodes (UNKNOWN, OK, NOK). This is a port of
// the SDK's `conditions.py`:
//
//   * When a node becomes NOK, all of its descendants become NOK.
//   * When a node becomes OK and all of its parent's children are OK, the
//     parent becomes OK, recursively up the tree.
//   * A ConditionTracker reports the NOK node with the highest priority, so the
//     LCD and the web can show the same, most important, problem.
//
// Unlike the SDK (quirk Q41), there are no process-wide condition objects:
// each Printer owns one `Conditions` chain (INTERNET -> HTTP -> TOKEN -> API).
//
// Thread safety: all nodes of one connected tree share one mutex, so a tree
// may be mutated from one thread (e.g. the network loop) while others read
// it. State changes and propagation happen atomically under that mutex. The
// callbacks registered on nodes are collected while the mutex is held and
// invoked *after* it is released, in the order the state changes happened, so
// a callback may read or even change conditions without deadlocking. As a
// consequence a callback may observe a state newer than the change it reports,
// and a callback removed concurrently with a state change may still run once
// for that change. Building trees (`set_parent`) is a set-up operation; see
// its REQUIRES. A ConditionTracker is safe for concurrent use.

#ifndef PRUSACONNECT_CONDITIONS_H_
#define PRUSACONNECT_CONDITIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "prusaconnect/export.h"

namespace prusaconnect {

// The state of a Condition. Every Condition starts as kUnknown and can never
// go back to it.
enum class CondState { kUnknown, kOk, kNok };

// Returns "UNKNOWN", "OK" or "NOK", as the SDK's `CondState.<name>`.
PRUSACONNECT_API const char* CondStateName(CondState state);

// One node of a condition tree.
//
// Conditions are neither copyable nor movable: nodes point at each other. A
// node detaches itself from its parent and its children when destroyed, so
// nodes of one tree may be destroyed in any order. REQUIRES: no other thread
// uses a node while it is destroyed, and no tracker still tracks it.
class PRUSACONNECT_API Condition {
 public:
  // Receives the condition that changed and its state *before* the change.
  using Callback = std::function<void(const Condition& condition, CondState old_state)>;
  // Identifies one callback registration on one node. Never 0.
  using CallbackId = uint64_t;

  // Creates a root node in state kUnknown, with its own mutex. An empty
  // `short_msg` means "the same as `name`", as in the SDK.
  Condition(std::string name, std::string long_msg, std::string short_msg = "", int priority = 0);
  ~Condition();

  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;
  Condition(Condition&&) = delete;
  Condition& operator=(Condition&&) = delete;

  const std::string& name() const { return name_; }
  const std::string& long_msg() const { return long_msg_; }
  const std::string& short_msg() const { return short_msg_; }
  int priority() const { return priority_; }

  // Returns the parent, or nullptr for a root.
  Condition* parent() const;
  // Returns a snapshot of the direct children, in the order they joined.
  std::vector<Condition*> children() const;

  CondState state() const;

  // True only when the state is kOk (the SDK's `__bool__`).
  bool ok() const { return state() == CondState::kOk; }
  explicit operator bool() const { return ok(); }

  // Sets the state and propagates it (see the file comment), then runs the
  // callbacks of every node whose state changed: the fixed-callbacks of nodes
  // that became kOk and the broke-callbacks of nodes that became kNok.
  // Setting the current state again changes nothing and runs no callbacks.
  // Returns false and does nothing for kUnknown (the SDK raises ValueError);
  // returns true otherwise.
  bool set_state(CondState state);
  // The same, with what made the node NOK, for people ("connection refused
  // (...)", "Connect answered HTTP 503"): reason() returns it from then on.
  // Setting kNok again with another reason only updates the reason (no
  // callbacks run); kOk clears it.
  bool set_state(CondState state, const std::string& reason);

  // What the code that set this node NOK said about why (the second
  // set_state() overload), e.g. which of refused / timed out / TLS / DNS /
  // 5xx broke the HTTP link; empty when the node is not NOK, when it became
  // NOK only because an ancestor did, or when nobody said. Read it in a broke
  // callback to log what happened, rather than long_msg(), the SDK's fixed
  // description of the node.
  std::string reason() const;

  // Makes `parent` the parent of this node, joining this node's tree (of which
  // it must be the root) to `parent`'s tree. The joined tree then shares
  // `parent`'s mutex.
  //
  // Returns true if `parent` already is the parent (including nullptr for a
  // root), or if the trees were joined. Returns false and changes nothing if
  // this node already has a different parent, if any node of either tree is
  // not kUnknown, or if `parent` is this node or one of its descendants.
  // REQUIRES: no other thread uses either tree during the call.
  bool set_parent(Condition* parent);

  // Registers a callback run when this node becomes kOk (fixed) or kNok
  // (broke). Returns an id for `remove_*_callback`. Each call registers anew;
  // the SDK's "already added" check for the same function has no equivalent.
  CallbackId add_fixed_callback(Callback callback);
  CallbackId add_broke_callback(Callback callback);

  // Unregisters a callback. Returns false if `id` is not registered on this
  // node as that kind of callback (the SDK raises KeyError).
  bool remove_fixed_callback(CallbackId id);
  bool remove_broke_callback(CallbackId id);

  // Returns this node's subtree in post-order: each node's children (in join
  // order) before the node itself; this node comes last.
  std::vector<Condition*> PostOrder() const;

  // True if this node and all of its descendants are kOk.
  bool successors_ok() const;

  // "<name>: <STATE>", as the SDK's `__str__`.
  std::string ToString() const;

 private:
  struct Registration {
    CallbackId id;
    std::shared_ptr<const Callback> callback;
  };
  // A state change whose callbacks still have to run.
  struct Change {
    const Condition* condition;
    CondState old_state;
    std::shared_ptr<const Callback> callback;
  };

  // REQUIRES: *mu_ is held.
  void SetStateLocked(CondState state, std::vector<Change>* changes);
  bool SetState(CondState state, const std::string* reason);
  void ChangeOneLocked(CondState state, std::vector<Change>* changes);
  bool AllChildrenOkLocked() const;
  // Calls `visit(Condition*)` on the subtree of `root` in post-order, without
  // recursion or allocation, until it returns false. Returns false if it did.
  template <typename Visit>
  static bool WalkPostOrderLocked(Condition* root, Visit visit);
  std::vector<Condition*> PostOrderLocked() const;
  Condition* RootLocked();
  CallbackId AddCallback(std::vector<Registration>* list, Callback callback);
  bool RemoveCallback(std::vector<Registration>* list, CallbackId id);

  const std::string name_;
  const std::string long_msg_;
  const std::string short_msg_;
  const int priority_;

  // Shared by all nodes of a connected tree. Only set_parent() re-points it.
  std::shared_ptr<std::mutex> mu_;

  // Guarded by *mu_.
  CondState state_ = CondState::kUnknown;
  std::string reason_;
  Condition* parent_ = nullptr;
  std::vector<Condition*> children_;
  std::vector<Registration> fixed_callbacks_;
  std::vector<Registration> broke_callbacks_;
  CallbackId next_callback_id_ = 1;
};

// Tracks a set of conditions and reports the NOK ones.
//
// The tracker stores non-owning pointers. REQUIRES: a tracked condition
// outlives the tracker, or is untracked before it is destroyed.
class PRUSACONNECT_API ConditionTracker {
 public:
  ConditionTracker() = default;
  ConditionTracker(const ConditionTracker&) = delete;
  ConditionTracker& operator=(const ConditionTracker&) = delete;

  // Tracks `root` and all its descendants (in post-order).
  void add_tracked_condition_tree(Condition* root);
  // Tracks one condition. Tracking a tracked condition again does nothing.
  void add_tracked_condition(Condition* condition);
  // Stops tracking `root` and all its descendants.
  void remove_tracked_condition_tree(Condition* root);
  // Stops tracking one condition. Untracked conditions are ignored.
  void remove_tracked_condition(Condition* condition);

  bool is_tracked(const Condition* condition) const;
  // All tracked conditions, in the order they were first tracked.
  std::vector<Condition*> tracked_conditions() const;
  // The tracked conditions that are currently kNok, in tracking order.
  std::vector<Condition*> nok_conditions() const;

  // Returns the NOK tracked condition with the highest priority; among equal
  // priorities the one tracked last wins (the SDK iterates a set, so its tie
  // order is arbitrary). Returns nullptr if none is NOK.
  Condition* get_worst() const;

 private:
  mutable std::mutex mu_;
  std::vector<Condition*> tracked_;  // Guarded by mu_.
};

// The SDK's condition chain, one per Printer:
//
//   INTERNET (130) -> HTTP (120) -> TOKEN (110) -> API (100)
//
// each node being the parent of the next. So API becoming OK makes everything
// OK, INTERNET becoming NOK makes everything NOK, and HTTP becoming NOK makes
// HTTP, TOKEN and API NOK while INTERNET is unchanged. `tracker` tracks the
// whole chain. Thread safety as for any condition tree (file comment).
class PRUSACONNECT_API Conditions {
 public:
  Conditions();
  Conditions(const Conditions&) = delete;
  Conditions& operator=(const Conditions&) = delete;
  Conditions(Conditions&&) = delete;
  Conditions& operator=(Conditions&&) = delete;

  // DNS or other communication with hosts on the Internet fails.
  Condition INTERNET;
  // HTTP communication to Connect fails: 5XX statuses, or no answer
  // (refused, timed out, TLS); reason() says which.
  Condition HTTP;
  // The printer has no valid token and needs to be registered.
  Condition TOKEN;
  // Connect answers with 4XX statuses.
  Condition API;

  ConditionTracker tracker;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_CONDITIONS_H_
