// Copyright 2026 The libprusaconnect Authors.
//
// Port of the SDK's conditions.py (spec §9.1), with per-instance state (Q41).
//
// The SDK wires propagation through callbacks (a child registers
// `_parent_broke` on its parent, a parent `_child_fixed` on each child). Here
// propagation is done directly under the tree mutex, and only the user
// callbacks are deferred until the mutex is released.

#include "prusaconnect/conditions.h"

#include <algorithm>

namespace prusaconnect {

const char* CondStateName(CondState state) {
  switch (state) {
    case CondState::kUnknown:
      return "UNKNOWN";
    case CondState::kOk:
      return "OK";
    case CondState::kNok:
      return "NOK";
  }
  return "UNKNOWN";
}

Condition::Condition(std::string name, std::string long_msg, std::string short_msg, int priority)
    : name_(std::move(name)),
      long_msg_(std::move(long_msg)),
      short_msg_(short_msg.empty() ? std::string(name_) : std::move(short_msg)),
      priority_(priority),
      mu_(std::make_shared<std::mutex>()) {}

Condition::~Condition() {
  std::lock_guard<std::mutex> lock(*mu_);
  if (parent_ != nullptr) {
    auto& siblings = parent_->children_;
    siblings.erase(std::remove(siblings.begin(), siblings.end(), this), siblings.end());
  }
  // The orphans keep sharing the mutex; that only makes their locking coarser.
  for (Condition* child : children_) child->parent_ = nullptr;
}

Condition* Condition::parent() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return parent_;
}

std::vector<Condition*> Condition::children() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return children_;
}

CondState Condition::state() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return state_;
}

bool Condition::set_state(CondState state) { return SetState(state, nullptr); }

bool Condition::set_state(CondState state, const std::string& reason) {
  return SetState(state, &reason);
}

std::string Condition::reason() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return reason_;
}

bool Condition::SetState(CondState state, const std::string* reason) {
  if (state == CondState::kUnknown) return false;
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(*mu_);
    // Before the change, so that the broke callbacks read the new reason.
    if (state == CondState::kNok && reason != nullptr) reason_ = *reason;
    SetStateLocked(state, &changes);
  }
  for (const Change& change : changes) (*change.callback)(*change.condition, change.old_state);
  return true;
}

void Condition::ChangeOneLocked(CondState state, std::vector<Change>* changes) {
  const CondState old_state = state_;
  state_ = state;
  if (state != CondState::kNok) reason_.clear();
  const auto& registrations = state == CondState::kOk ? fixed_callbacks_ : broke_callbacks_;
  for (const Registration& registration : registrations) {
    changes->push_back(Change{this, old_state, registration.callback});
  }
}

void Condition::SetStateLocked(CondState state, std::vector<Change>* changes) {
  if (state_ == state) return;
  if (state == CondState::kNok) {
    // Down, pre-order. As in the SDK, a node that already is NOK is a no-op,
    // so its subtree is not visited (it may hold nodes that were set OK
    // explicitly afterwards).
    std::vector<Condition*> stack{this};
    while (!stack.empty()) {
      Condition* node = stack.back();
      stack.pop_back();
      if (node->state_ == CondState::kNok) continue;
      node->ChangeOneLocked(CondState::kNok, changes);
      stack.insert(stack.end(), node->children_.rbegin(), node->children_.rend());
    }
    return;
  }
  // Up, while every child of the parent is OK. An ancestor that already is
  // OK stops the walk: in the SDK it runs no handlers, so nothing above it is
  // re-evaluated either.
  ChangeOneLocked(CondState::kOk, changes);
  for (Condition* node = this; node->parent_ != nullptr && node->parent_->AllChildrenOkLocked();
       node = node->parent_) {
    if (node->parent_->state_ == CondState::kOk) break;
    node->parent_->ChangeOneLocked(CondState::kOk, changes);
  }
}

bool Condition::AllChildrenOkLocked() const {
  return std::all_of(children_.begin(), children_.end(),
                     [](const Condition* child) { return child->state_ == CondState::kOk; });
}

Condition* Condition::RootLocked() {
  Condition* node = this;
  while (node->parent_ != nullptr) node = node->parent_;
  return node;
}

template <typename Visit>
bool Condition::WalkPostOrderLocked(Condition* root, Visit visit) {
  auto leftmost_leaf = [](Condition* node) {
    while (!node->children_.empty()) node = node->children_.front();
    return node;
  };
  Condition* node = leftmost_leaf(root);
  while (true) {
    if (!visit(node)) return false;
    if (node == root) return true;
    const std::vector<Condition*>& siblings = node->parent_->children_;
    auto next = std::find(siblings.begin(), siblings.end(), node) + 1;
    node = next != siblings.end() ? leftmost_leaf(*next) : node->parent_;
  }
}

std::vector<Condition*> Condition::PostOrderLocked() const {
  std::vector<Condition*> result;
  // The walk never modifies nodes; the cast only lets it hand out pointers.
  WalkPostOrderLocked(const_cast<Condition*>(this), [&result](Condition* node) {
    result.push_back(node);
    return true;
  });
  return result;
}

std::vector<Condition*> Condition::PostOrder() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return PostOrderLocked();
}

bool Condition::successors_ok() const {
  std::lock_guard<std::mutex> lock(*mu_);
  return WalkPostOrderLocked(const_cast<Condition*>(this),
                             [](const Condition* node) { return node->state_ == CondState::kOk; });
}

bool Condition::set_parent(Condition* parent) {
  const std::shared_ptr<std::mutex> mine = mu_;
  if (parent == nullptr) {
    std::lock_guard<std::mutex> lock(*mine);
    return parent_ == nullptr;
  }
  const std::shared_ptr<std::mutex> theirs = parent->mu_;
  std::unique_lock<std::mutex> my_lock(*mine, std::defer_lock);
  std::unique_lock<std::mutex> their_lock;
  if (theirs != mine) {
    their_lock = std::unique_lock<std::mutex>(*theirs, std::defer_lock);
    std::lock(my_lock, their_lock);
  } else {
    my_lock.lock();
  }

  if (parent_ == parent) return true;
  if (parent_ != nullptr) return false;  // "Can't replace a parent with another"
  // This node is a root, so `parent` is in our tree iff its root is us.
  Condition* parent_root = parent->RootLocked();
  if (parent_root == this) return false;

  // "Re-planting of initialized trees is not supported." The SDK only checks
  // the two nodes being joined; we check both whole trees.
  auto unknown = [](const Condition* node) { return node->state_ == CondState::kUnknown; };
  if (!WalkPostOrderLocked(this, unknown) || !WalkPostOrderLocked(parent_root, unknown)) {
    return false;
  }

  parent_ = parent;
  parent->children_.push_back(this);
  WalkPostOrderLocked(this, [&theirs](Condition* node) {
    node->mu_ = theirs;
    return true;
  });
  return true;
}

Condition::CallbackId Condition::AddCallback(std::vector<Registration>* list, Callback callback) {
  std::lock_guard<std::mutex> lock(*mu_);
  const CallbackId id = next_callback_id_++;
  list->push_back(Registration{id, std::make_shared<const Callback>(std::move(callback))});
  return id;
}

bool Condition::RemoveCallback(std::vector<Registration>* list, CallbackId id) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto it = std::find_if(list->begin(), list->end(),
                         [id](const Registration& registration) { return registration.id == id; });
  if (it == list->end()) return false;
  list->erase(it);
  return true;
}

Condition::CallbackId Condition::add_fixed_callback(Callback callback) {
  return AddCallback(&fixed_callbacks_, std::move(callback));
}

Condition::CallbackId Condition::add_broke_callback(Callback callback) {
  return AddCallback(&broke_callbacks_, std::move(callback));
}

bool Condition::remove_fixed_callback(CallbackId id) {
  return RemoveCallback(&fixed_callbacks_, id);
}

bool Condition::remove_broke_callback(CallbackId id) {
  return RemoveCallback(&broke_callbacks_, id);
}

std::string Condition::ToString() const { return name_ + ": " + CondStateName(state()); }

// ConditionTracker. The SDK keeps a set of NOK nodes up to date through
// callbacks; computing it from the tracked nodes' states gives the same
// answers and cannot fall out of step with the deferred callbacks.

void ConditionTracker::add_tracked_condition_tree(Condition* root) {
  for (Condition* condition : root->PostOrder()) add_tracked_condition(condition);
}

void ConditionTracker::add_tracked_condition(Condition* condition) {
  std::lock_guard<std::mutex> lock(mu_);
  if (std::find(tracked_.begin(), tracked_.end(), condition) == tracked_.end()) {
    tracked_.push_back(condition);
  }
}

void ConditionTracker::remove_tracked_condition_tree(Condition* root) {
  for (Condition* condition : root->PostOrder()) remove_tracked_condition(condition);
}

void ConditionTracker::remove_tracked_condition(Condition* condition) {
  std::lock_guard<std::mutex> lock(mu_);
  tracked_.erase(std::remove(tracked_.begin(), tracked_.end(), condition), tracked_.end());
}

bool ConditionTracker::is_tracked(const Condition* condition) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::find(tracked_.begin(), tracked_.end(), condition) != tracked_.end();
}

std::vector<Condition*> ConditionTracker::tracked_conditions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tracked_;
}

std::vector<Condition*> ConditionTracker::nok_conditions() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Condition*> result;
  for (Condition* condition : tracked_) {
    if (condition->state() == CondState::kNok) result.push_back(condition);
  }
  return result;
}

Condition* ConditionTracker::get_worst() const {
  Condition* worst = nullptr;
  for (Condition* condition : nok_conditions()) {
    if (worst == nullptr || condition->priority() >= worst->priority()) worst = condition;
  }
  return worst;
}

Conditions::Conditions()
    : INTERNET("Internet",
               "DNS does not work, or there are other problems in communication to other hosts "
               "in the Internet.",
               "", 130),
      HTTP("HTTP", "HTTP communication to Connect fails, we're getting 5XX statuses", "", 120),
      TOKEN("Token", "Printer has no valid token, it needs to be registered with Connect.", "",
            110),
      API("API", "Encountered 4XX problems while communicating to Connect", "", 100) {
  // Fresh UNKNOWN roots: joining cannot fail.
  HTTP.set_parent(&INTERNET);
  TOKEN.set_parent(&HTTP);
  API.set_parent(&TOKEN);
  tracker.add_tracked_condition_tree(&INTERNET);
}

}  // namespace prusaconnect
