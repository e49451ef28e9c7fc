// Copyright 2026 The libprusaconnect Authors.
//
// Tests for prusaconnect/conditions.h: every scenario of the SDK's
// tests/test_conditions.py (spec §12), the SDK chain semantics (spec §9.1),
// per-instance independence (Q41) and thread safety.

#include "prusaconnect/conditions.h"

#include <pthread.h>

#include <atomic>
#include <memory>
#include <ostream>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace prusaconnect {

// Readable failure messages. Static: found by ADL, clashes with nothing.
static void PrintTo(CondState state, std::ostream* os) { *os << CondStateName(state); }

namespace {

using Calls = std::vector<std::pair<const Condition*, CondState>>;
using Nodes = std::vector<Condition*>;

// Records every invocation, like the SDK tests' unittest.mock.Mock.
struct Recorder {
  std::vector<std::pair<const Condition*, CondState>> calls;
  Condition::Callback Callback() {
    return [this](const Condition& condition, CondState old_state) {
      calls.emplace_back(&condition, old_state);
    };
  }
};

std::set<Condition*> AsSet(const std::vector<Condition*>& conditions) {
  return {conditions.begin(), conditions.end()};
}

TEST(ConditionTest, NewConditionIsUnknownAndShortMessageDefaultsToName) {
  Condition plain("Root", "Lorem ipsum");
  EXPECT_EQ(plain.state(), CondState::kUnknown);
  EXPECT_EQ(plain.name(), "Root");
  EXPECT_EQ(plain.long_msg(), "Lorem ipsum");
  EXPECT_EQ(plain.short_msg(), "Root");
  EXPECT_EQ(plain.priority(), 0);
  Condition custom("Root", "Lorem ipsum", "Short", 7);
  EXPECT_EQ(custom.short_msg(), "Short");
  EXPECT_EQ(custom.priority(), 7);
}

// test_sanity
TEST(ConditionTest, SetParentWiresParentAndChildren) {
  Condition root("Root", "Lorem ipsum", "", 0);
  Condition child("Child", "Lorem ipsum", "", 1);
  ASSERT_TRUE(child.set_parent(&root));
  EXPECT_EQ(child.parent(), &root);
  EXPECT_EQ(root.children(), (Nodes{&child}));
  EXPECT_EQ(root.parent(), nullptr);
}

// test_callbacks
TEST(ConditionTest, CallbacksReceiveConditionAndOldState) {
  Condition root("Root", "Lorem ipsum");
  Recorder broke, fixed;
  root.add_broke_callback(broke.Callback());
  root.add_fixed_callback(fixed.Callback());

  ASSERT_TRUE(root.set_state(CondState::kNok));
  EXPECT_EQ(broke.calls, (Calls{{&root, CondState::kUnknown}}));
  EXPECT_TRUE(fixed.calls.empty());

  ASSERT_TRUE(root.set_state(CondState::kOk));
  EXPECT_EQ(fixed.calls, (Calls{{&root, CondState::kNok}}));
  EXPECT_EQ(broke.calls.size(), 1u);
}

TEST(ConditionTest, SettingTheSameStateAgainRunsNoCallbacks) {
  Condition root("Root", "Lorem ipsum");
  Recorder broke;
  root.add_broke_callback(broke.Callback());
  root.set_state(CondState::kNok);
  EXPECT_TRUE(root.set_state(CondState::kNok));
  EXPECT_EQ(broke.calls.size(), 1u);
}

TEST(ConditionTest, ReasonIsReadableInTheBrokeCallbackAndClearedWhenOk) {
  Condition root("Root", "Lorem ipsum");
  Condition child("Child", "Dolor");
  ASSERT_TRUE(child.set_parent(&root));
  std::vector<std::string> seen;
  root.add_broke_callback([&](const Condition& c, CondState) { seen.push_back(c.reason()); });
  EXPECT_EQ(root.reason(), "");
  root.set_state(CondState::kNok, "connection refused");
  EXPECT_EQ(seen, std::vector<std::string>{"connection refused"});
  EXPECT_EQ(root.reason(), "connection refused");
  // A descendant made NOK by propagation has no reason of its own.
  EXPECT_EQ(child.state(), CondState::kNok);
  EXPECT_EQ(child.reason(), "");
  // NOK again with another reason: the reason changes, no callback runs.
  root.set_state(CondState::kNok, "Connect answered HTTP 503");
  EXPECT_EQ(root.reason(), "Connect answered HTTP 503");
  EXPECT_EQ(seen.size(), 1u);
  // NOK again without a reason keeps the last one.
  root.set_state(CondState::kNok);
  EXPECT_EQ(root.reason(), "Connect answered HTTP 503");
  child.set_state(CondState::kOk);
  EXPECT_EQ(root.state(), CondState::kOk);
  EXPECT_EQ(root.reason(), "");
  // kOk ignores a reason.
  root.set_state(CondState::kOk, "ignored");
  EXPECT_EQ(root.reason(), "");
}

TEST(ConditionTest, SettingUnknownIsRefusedAndChangesNothing) {
  Condition root("Root", "Lorem ipsum");
  EXPECT_FALSE(root.set_state(CondState::kUnknown));
  EXPECT_EQ(root.state(), CondState::kUnknown);
  root.set_state(CondState::kOk);
  EXPECT_FALSE(root.set_state(CondState::kUnknown));
  EXPECT_EQ(root.state(), CondState::kOk);
}

// test_removing_callbacks. The SDK's "adding the same function twice raises"
// becomes "ids are distinct; removing an id twice fails".
TEST(ConditionTest, RemovedCallbacksAreNotCalled) {
  Condition root("Root", "Lorem ipsum");
  Recorder broke, fixed;
  const Condition::CallbackId broke_id = root.add_broke_callback(broke.Callback());
  const Condition::CallbackId fixed_id = root.add_fixed_callback(fixed.Callback());
  EXPECT_NE(broke_id, 0u);
  EXPECT_NE(fixed_id, 0u);
  EXPECT_NE(broke_id, fixed_id);

  // An id is bound to its kind of callback.
  EXPECT_FALSE(root.remove_fixed_callback(broke_id));
  EXPECT_FALSE(root.remove_broke_callback(fixed_id));

  EXPECT_TRUE(root.remove_broke_callback(broke_id));
  EXPECT_TRUE(root.remove_fixed_callback(fixed_id));
  EXPECT_FALSE(root.remove_broke_callback(broke_id));
  EXPECT_FALSE(root.remove_fixed_callback(fixed_id));

  root.set_state(CondState::kNok);
  EXPECT_TRUE(broke.calls.empty());
  root.set_state(CondState::kOk);
  EXPECT_TRUE(fixed.calls.empty());
}

TEST(ConditionTest, EveryRegistrationOfTheSameFunctionRuns) {
  Condition root("Root", "Lorem ipsum");
  Recorder broke;
  const auto first = root.add_broke_callback(broke.Callback());
  const auto second = root.add_broke_callback(broke.Callback());
  EXPECT_NE(first, second);
  root.set_state(CondState::kNok);
  EXPECT_EQ(broke.calls.size(), 2u);
}

// test_propagation
TEST(ConditionTest, NokPropagatesDownAndOkUpOnlyWhenAllChildrenAreOk) {
  Condition grandma("Grandma", "Sweet old lady baking pies");
  Condition mom("Mom", "Reason I exist");
  Condition aunt("Aunt", "An aunt");
  Condition me("Me", "*exists*");
  ASSERT_TRUE(mom.set_parent(&grandma));
  ASSERT_TRUE(aunt.set_parent(&grandma));
  ASSERT_TRUE(me.set_parent(&mom));

  grandma.set_state(CondState::kOk);
  mom.set_state(CondState::kNok);
  aunt.set_state(CondState::kNok);
  EXPECT_EQ(grandma.state(), CondState::kOk);  // A child breaking does not break its parent.
  EXPECT_EQ(mom.state(), CondState::kNok);
  EXPECT_EQ(aunt.state(), CondState::kNok);
  EXPECT_EQ(me.state(), CondState::kNok);  // A parent breaking breaks its children.

  grandma.set_state(CondState::kNok);
  mom.set_state(CondState::kOk);
  EXPECT_EQ(grandma.state(), CondState::kNok);  // Aunt is still NOK.
  EXPECT_EQ(mom.state(), CondState::kOk);
  EXPECT_EQ(aunt.state(), CondState::kNok);
  EXPECT_EQ(me.state(), CondState::kNok);  // OK does not propagate down.

  aunt.set_state(CondState::kOk);
  EXPECT_EQ(grandma.state(), CondState::kOk);  // Now all her children are OK.
  EXPECT_EQ(mom.state(), CondState::kOk);
  EXPECT_EQ(aunt.state(), CondState::kOk);
  EXPECT_EQ(me.state(), CondState::kNok);
}

TEST(ConditionTest, PropagatedChangesRunCallbacksOfEveryChangedNode) {
  Condition root("Root", "Lorem ipsum");
  Condition child("Child", "Lorem ipsum");
  Condition grandchild("Grandchild", "Lorem ipsum");
  ASSERT_TRUE(child.set_parent(&root));
  ASSERT_TRUE(grandchild.set_parent(&child));
  Recorder broke, fixed;
  for (Condition* node : {&root, &child, &grandchild}) {
    node->add_broke_callback(broke.Callback());
    node->add_fixed_callback(fixed.Callback());
  }

  root.set_state(CondState::kNok);
  EXPECT_EQ(broke.calls, (Calls{{&root, CondState::kUnknown},
                                {&child, CondState::kUnknown},
                                {&grandchild, CondState::kUnknown}}));
  grandchild.set_state(CondState::kOk);
  EXPECT_EQ(
      fixed.calls,
      (Calls{{&grandchild, CondState::kNok}, {&child, CondState::kNok}, {&root, CondState::kNok}}));
}

TEST(ConditionTest, NokPropagationStopsAtNodesThatAreAlreadyNok) {
  // As in the SDK, setting NOK on a NOK node is a no-op, also during
  // propagation, so an OK grandchild under a NOK child stays OK.
  Condition root("Root", "Lorem ipsum");
  Condition child("Child", "Lorem ipsum");
  Condition kid1("Kid1", "Lorem ipsum");
  Condition kid2("Kid2", "Lorem ipsum");
  ASSERT_TRUE(child.set_parent(&root));
  ASSERT_TRUE(kid1.set_parent(&child));
  ASSERT_TRUE(kid2.set_parent(&child));
  child.set_state(CondState::kNok);
  kid1.set_state(CondState::kOk);  // kid2 is NOK, so child stays NOK.
  ASSERT_EQ(child.state(), CondState::kNok);

  root.set_state(CondState::kNok);
  EXPECT_EQ(kid1.state(), CondState::kOk);
}

TEST(ConditionTest, CallbackMayReadAndChangeConditionsWithoutDeadlock) {
  Condition root("Root", "Lorem ipsum");
  Condition other("Other", "Lorem ipsum");
  CondState seen = CondState::kUnknown;
  root.add_broke_callback([&](const Condition& condition, CondState) {
    seen = condition.state();
    root.set_state(CondState::kOk);  // Re-entrant change of the same tree.
    other.set_state(CondState::kNok);
  });
  root.set_state(CondState::kNok);
  EXPECT_EQ(seen, CondState::kNok);
  EXPECT_EQ(root.state(), CondState::kOk);
  EXPECT_EQ(other.state(), CondState::kNok);
}

// test_tracker_item_management
TEST(ConditionTrackerTest, TracksAndUntracksSubtrees) {
  ConditionTracker tracker;
  Condition root("Root", "Lorem ipsum");
  Condition a("Node A", "Lorem ipsum");
  Condition b("Node B", "Lorem ipsum");
  Condition a_l("Node A->L", "Lorem ipsum");
  Condition a_m("Node A->M", "Lorem ipsum");
  Condition b_n("Node B->N", "Lorem ipsum");
  Condition b_o("Node B->O", "Lorem ipsum");
  ASSERT_TRUE(a.set_parent(&root));
  ASSERT_TRUE(b.set_parent(&root));
  ASSERT_TRUE(a_l.set_parent(&a));
  ASSERT_TRUE(a_m.set_parent(&a));
  ASSERT_TRUE(b_n.set_parent(&b));
  ASSERT_TRUE(b_o.set_parent(&b));
  for (Condition* node : {&root, &a, &b, &a_l, &a_m, &b_n, &b_o}) node->set_state(CondState::kOk);

  tracker.add_tracked_condition_tree(&a);
  EXPECT_EQ(AsSet(tracker.tracked_conditions()), (std::set<Condition*>{&a, &a_l, &a_m}));

  b_o.set_state(CondState::kNok);
  tracker.add_tracked_condition_tree(&b);  // Already NOK when tracked.
  EXPECT_EQ(tracker.get_worst(), &b_o);

  tracker.remove_tracked_condition(&b_o);
  EXPECT_EQ(tracker.get_worst(), nullptr);
  EXPECT_FALSE(tracker.is_tracked(&b_o));

  // Removed conditions are not tracked any more.
  tracker.remove_tracked_condition_tree(&a);
  a_l.set_state(CondState::kNok);
  for (Condition* node : {&a, &a_l, &a_m}) EXPECT_FALSE(tracker.is_tracked(node));
  EXPECT_EQ(tracker.get_worst(), nullptr);
  EXPECT_EQ(AsSet(tracker.tracked_conditions()), (std::set<Condition*>{&b, &b_n}));
}

// test_priority
TEST(ConditionTrackerTest, WorstIsTheNokConditionWithHighestPriority) {
  ConditionTracker tracker;
  Condition root("Root", "Lorem ipsum", "", 0);
  Condition child("Child", "Lorem ipsum", "", 1);
  ASSERT_TRUE(child.set_parent(&root));
  tracker.add_tracked_condition_tree(&root);
  root.set_state(CondState::kNok);
  child.set_state(CondState::kNok);
  EXPECT_EQ(tracker.get_worst(), &child);
}

TEST(ConditionTrackerTest, AmongEqualPrioritiesTheLastTrackedWins) {
  ConditionTracker tracker;
  Condition first("First", "Lorem ipsum", "", 5);
  Condition second("Second", "Lorem ipsum", "", 5);
  Condition lower("Lower", "Lorem ipsum", "", 4);
  tracker.add_tracked_condition(&first);
  tracker.add_tracked_condition(&second);
  tracker.add_tracked_condition(&lower);
  for (Condition* node : {&first, &second, &lower}) node->set_state(CondState::kNok);
  EXPECT_EQ(tracker.get_worst(), &second);
  second.set_state(CondState::kOk);
  EXPECT_EQ(tracker.get_worst(), &first);
}

TEST(ConditionTrackerTest, WorstFollowsStateChanges) {
  Conditions conditions;
  EXPECT_EQ(conditions.tracker.get_worst(), nullptr);
  conditions.API.set_state(CondState::kNok);
  EXPECT_EQ(conditions.tracker.get_worst(), &conditions.API);
  conditions.HTTP.set_state(CondState::kNok);
  EXPECT_EQ(conditions.tracker.get_worst(), &conditions.HTTP);
  conditions.API.set_state(CondState::kOk);
  EXPECT_EQ(conditions.tracker.get_worst(), nullptr);
}

// test_replanting
TEST(ConditionTest, UnknownRootCanBeReplantedAndNewRootBreakingPropagates) {
  Condition root("Root", "Lorem ipsum");
  Condition child("Child", "Lorem ipsum");
  ASSERT_TRUE(child.set_parent(&root));
  Recorder broke;
  child.add_broke_callback(broke.Callback());

  Condition new_root("New root", "Lorem ipsum");
  ASSERT_TRUE(root.set_parent(&new_root));
  new_root.set_state(CondState::kNok);
  EXPECT_EQ(broke.calls, (Calls{{&child, CondState::kUnknown}}));
  EXPECT_EQ(root.state(), CondState::kNok);
}

// test_forbidden_replanting
TEST(ConditionTest, JoiningAnInitialisedTreeIsRefused) {
  Condition root("Root", "Lorem ipsum");
  root.set_state(CondState::kOk);
  Condition child("Child", "Lorem ipsum");
  EXPECT_FALSE(child.set_parent(&root));
  EXPECT_EQ(child.parent(), nullptr);
  EXPECT_TRUE(root.children().empty());
}

TEST(ConditionTest, JoiningIsRefusedWhenAnyNodeOfEitherTreeIsInitialised) {
  Condition top("Top", "Lorem ipsum");
  Condition middle("Middle", "Lorem ipsum");
  Condition leaf("Leaf", "Lorem ipsum");
  ASSERT_TRUE(middle.set_parent(&top));
  middle.set_state(CondState::kNok);  // top stays UNKNOWN, middle is NOK.

  Condition newcomer("Newcomer", "Lorem ipsum");
  EXPECT_FALSE(newcomer.set_parent(&top));  // Their tree has a NOK node.

  Condition sub_root("SubRoot", "Lorem ipsum");
  Condition sub_leaf("SubLeaf", "Lorem ipsum");
  ASSERT_TRUE(sub_leaf.set_parent(&sub_root));
  sub_leaf.set_state(CondState::kOk);
  Condition host("Host", "Lorem ipsum");
  EXPECT_FALSE(sub_root.set_parent(&host));  // Our tree has an OK node.
  EXPECT_TRUE(leaf.set_parent(&host));       // Both UNKNOWN: fine.
}

// test_set_parent
TEST(ConditionTest, SameParentAgainIsFineButADifferentParentIsRefused) {
  Condition root("Root", "Lorem ipsum");
  Condition fake_root("FakeRoot", "Lorem ipsum");
  Condition child("Child", "Lorem ipsum");
  EXPECT_TRUE(child.set_parent(&root));
  EXPECT_TRUE(child.set_parent(&root));
  EXPECT_EQ(root.children(), (Nodes{&child}));  // Not added twice.
  EXPECT_FALSE(child.set_parent(&fake_root));
  EXPECT_FALSE(child.set_parent(nullptr));
  EXPECT_EQ(child.parent(), &root);
  EXPECT_TRUE(fake_root.children().empty());
}

TEST(ConditionTest, CyclesAreRefused) {
  Condition root("Root", "Lorem ipsum");
  Condition child("Child", "Lorem ipsum");
  ASSERT_TRUE(child.set_parent(&root));
  EXPECT_FALSE(root.set_parent(&root));
  EXPECT_FALSE(root.set_parent(&child));
  EXPECT_EQ(root.parent(), nullptr);
  EXPECT_TRUE(root.set_parent(nullptr));  // Already a root.
}

// test_bool
TEST(ConditionTest, IsTruthyOnlyWhenOk) {
  Condition cond("Condition", "Lorem ipsum");
  EXPECT_FALSE(static_cast<bool>(cond));
  cond.set_state(CondState::kOk);
  EXPECT_TRUE(static_cast<bool>(cond));
  EXPECT_TRUE(cond.ok());
  cond.set_state(CondState::kNok);
  EXPECT_FALSE(static_cast<bool>(cond));
  EXPECT_FALSE(cond.ok());
}

// test_descendants
TEST(ConditionTest, SuccessorsOkRequiresEveryDescendantOk) {
  Condition root("Root", "Lorem ipsum");
  Condition a("Node A", "Lorem ipsum");
  Condition b("Node B", "Lorem ipsum");
  Condition a_l("Node A->L", "Lorem ipsum");
  Condition a_m("Node A->M", "Lorem ipsum");
  Condition b_n("Node B->N", "Lorem ipsum");
  Condition b_o("Node B->O", "Lorem ipsum");
  ASSERT_TRUE(a.set_parent(&root));
  ASSERT_TRUE(b.set_parent(&root));
  ASSERT_TRUE(a_l.set_parent(&a));
  ASSERT_TRUE(a_m.set_parent(&a));
  ASSERT_TRUE(b_n.set_parent(&b));
  ASSERT_TRUE(b_o.set_parent(&b));
  for (Condition* node : {&root, &a, &b, &a_l, &a_m, &b_n}) node->set_state(CondState::kOk);
  b_o.set_state(CondState::kNok);

  EXPECT_FALSE(root.successors_ok());
  EXPECT_TRUE(a.successors_ok());
  b_o.set_state(CondState::kOk);
  EXPECT_TRUE(root.successors_ok());
}

TEST(ConditionTest, PostOrderVisitsChildrenBeforeTheirParent) {
  Condition root("Root", "Lorem ipsum");
  Condition a("A", "Lorem ipsum");
  Condition b("B", "Lorem ipsum");
  Condition a_l("A->L", "Lorem ipsum");
  Condition a_m("A->M", "Lorem ipsum");
  ASSERT_TRUE(a.set_parent(&root));
  ASSERT_TRUE(b.set_parent(&root));
  ASSERT_TRUE(a_l.set_parent(&a));
  ASSERT_TRUE(a_m.set_parent(&a));
  EXPECT_EQ(root.PostOrder(), (Nodes{&a_l, &a_m, &a, &b, &root}));
  EXPECT_EQ(b.PostOrder(), (Nodes{&b}));
}

// Runs `fn` on a thread with a small stack, so that recursion proportional to
// the tree depth would crash the test.
template <typename Fn>
void RunWithSmallStack(Fn fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<Fn*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, trampoline, &fn), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
}

TEST(ConditionTest, DeepChainsWorkWithoutRecursion) {
  // Joining checks both whole trees, so building is quadratic; 5000 levels
  // stay fast and recursing through them needs more than 128 KiB of stack.
  constexpr int kDepth = 5000;
  std::vector<std::unique_ptr<Condition>> chain;
  chain.reserve(kDepth);
  for (int i = 0; i < kDepth; ++i) {
    chain.push_back(std::make_unique<Condition>("Node", "Lorem ipsum"));
    if (i > 0) {
      ASSERT_TRUE(chain[i]->set_parent(chain[i - 1].get()));
    }
  }
  size_t post_order_size = 0;
  CondState leaf_after_root_broke = CondState::kUnknown;
  CondState root_after_leaf_fixed = CondState::kUnknown;
  bool successors_ok = false;
  RunWithSmallStack([&] {
    post_order_size = chain.front()->PostOrder().size();
    chain.front()->set_state(CondState::kNok);
    leaf_after_root_broke = chain.back()->state();
    chain.back()->set_state(CondState::kOk);
    root_after_leaf_fixed = chain.front()->state();
    successors_ok = chain.front()->successors_ok();
  });
  EXPECT_EQ(post_order_size, static_cast<size_t>(kDepth));
  EXPECT_EQ(leaf_after_root_broke, CondState::kNok);
  EXPECT_EQ(root_after_leaf_fixed, CondState::kOk);
  EXPECT_TRUE(successors_ok);
}

// test_init_to_ok, test_double_add, test_double_remove
TEST(ConditionTrackerTest, TrackedUnknownConditionCanBecomeOk) {
  ConditionTracker tracker;
  Condition node("Node", "Lorem ipsum");
  tracker.add_tracked_condition(&node);
  EXPECT_TRUE(node.set_state(CondState::kOk));
  EXPECT_TRUE(tracker.nok_conditions().empty());
}

TEST(ConditionTrackerTest, AddingTwiceTracksOnce) {
  ConditionTracker tracker;
  Condition node("Node", "Lorem ipsum");
  tracker.add_tracked_condition(&node);
  tracker.add_tracked_condition(&node);
  EXPECT_EQ(tracker.tracked_conditions(), (Nodes{&node}));
  tracker.remove_tracked_condition(&node);
  EXPECT_FALSE(tracker.is_tracked(&node));
}

TEST(ConditionTrackerTest, RemovingAnUntrackedConditionIsHarmless) {
  ConditionTracker tracker;
  Condition node("Node", "Lorem ipsum");
  tracker.remove_tracked_condition(&node);
  tracker.remove_tracked_condition(&node);
  EXPECT_TRUE(tracker.tracked_conditions().empty());
}

// test_getting_all
TEST(ConditionTrackerTest, NokConditionsListsEveryTrackedNokNode) {
  ConditionTracker tracker;
  Condition root("Root", "Lorem ipsum");
  Condition child("Child", "Lorem ipsum");
  ASSERT_TRUE(child.set_parent(&root));
  Condition foo("Foo", "Lorem ipsum");
  tracker.add_tracked_condition_tree(&root);
  tracker.add_tracked_condition(&foo);
  root.set_state(CondState::kNok);
  EXPECT_EQ(AsSet(tracker.nok_conditions()), (std::set<Condition*>{&root, &child}));
}

TEST(ConditionTest, NodesMayBeDestroyedInAnyOrder) {
  auto root = std::make_unique<Condition>("Root", "Lorem ipsum");
  auto child = std::make_unique<Condition>("Child", "Lorem ipsum");
  auto grandchild = std::make_unique<Condition>("Grandchild", "Lorem ipsum");
  ASSERT_TRUE(child->set_parent(root.get()));
  ASSERT_TRUE(grandchild->set_parent(child.get()));

  child.reset();  // Detaches from root and orphans grandchild.
  EXPECT_TRUE(root->children().empty());
  EXPECT_EQ(grandchild->parent(), nullptr);
  root.reset();
  EXPECT_TRUE(grandchild->set_state(CondState::kNok));
}

TEST(ConditionTest, ToStringShowsNameAndState) {
  Condition cond("Internet", "Lorem ipsum");
  EXPECT_EQ(cond.ToString(), "Internet: UNKNOWN");
  cond.set_state(CondState::kNok);
  EXPECT_EQ(cond.ToString(), "Internet: NOK");
  cond.set_state(CondState::kOk);
  EXPECT_EQ(cond.ToString(), "Internet: OK");
}

// The SDK chain (spec §9.1).

TEST(ConditionsTest, ChainHasTheSdkNamesMessagesPrioritiesAndLinks) {
  Conditions c;
  EXPECT_EQ(c.INTERNET.name(), "Internet");
  EXPECT_EQ(c.INTERNET.long_msg(),
            "DNS does not work, or there are other problems in communication to other hosts in "
            "the Internet.");
  EXPECT_EQ(c.INTERNET.priority(), 130);
  EXPECT_EQ(c.HTTP.name(), "HTTP");
  EXPECT_EQ(c.HTTP.long_msg(), "HTTP communication to Connect fails, we're getting 5XX statuses");
  EXPECT_EQ(c.HTTP.priority(), 120);
  EXPECT_EQ(c.TOKEN.name(), "Token");
  EXPECT_EQ(c.TOKEN.long_msg(),
            "Printer has no valid token, it needs to be registered with Connect.");
  EXPECT_EQ(c.TOKEN.priority(), 110);
  EXPECT_EQ(c.API.name(), "API");
  EXPECT_EQ(c.API.long_msg(), "Encountered 4XX problems while communicating to Connect");
  EXPECT_EQ(c.API.priority(), 100);
  for (const Condition* node : {&c.INTERNET, &c.HTTP, &c.TOKEN, &c.API}) {
    EXPECT_EQ(node->short_msg(), node->name());
    EXPECT_EQ(node->state(), CondState::kUnknown);
  }

  EXPECT_EQ(c.INTERNET.parent(), nullptr);
  EXPECT_EQ(c.HTTP.parent(), &c.INTERNET);
  EXPECT_EQ(c.TOKEN.parent(), &c.HTTP);
  EXPECT_EQ(c.API.parent(), &c.TOKEN);
  EXPECT_EQ(AsSet(c.tracker.tracked_conditions()),
            (std::set<Condition*>{&c.INTERNET, &c.HTTP, &c.TOKEN, &c.API}));
}

std::vector<CondState> States(const Conditions& c) {
  return {c.INTERNET.state(), c.HTTP.state(), c.TOKEN.state(), c.API.state()};
}

TEST(ConditionsTest, ApiOkMakesEverythingOk) {
  Conditions c;
  c.API.set_state(CondState::kOk);
  EXPECT_EQ(States(c), (std::vector<CondState>{CondState::kOk, CondState::kOk, CondState::kOk,
                                               CondState::kOk}));
}

TEST(ConditionsTest, InternetNokMakesEverythingNok) {
  Conditions c;
  c.API.set_state(CondState::kOk);
  c.INTERNET.set_state(CondState::kNok);
  EXPECT_EQ(States(c), (std::vector<CondState>{CondState::kNok, CondState::kNok, CondState::kNok,
                                               CondState::kNok}));
  EXPECT_EQ(c.tracker.get_worst(), &c.INTERNET);
}

TEST(ConditionsTest, HttpNokBreaksHttpTokenAndApiButNotInternet) {
  Conditions c;
  c.API.set_state(CondState::kOk);
  c.HTTP.set_state(CondState::kNok);
  EXPECT_EQ(States(c), (std::vector<CondState>{CondState::kOk, CondState::kNok, CondState::kNok,
                                               CondState::kNok}));
  EXPECT_EQ(c.tracker.get_worst(), &c.HTTP);
}

TEST(ConditionsTest, TokenOkAfterHttpNokFixesHttpButNotApi) {
  // set_connection() marks TOKEN OK; a node only needs its children OK.
  Conditions c;
  c.HTTP.set_state(CondState::kNok);
  c.TOKEN.set_state(CondState::kOk);
  EXPECT_EQ(States(c), (std::vector<CondState>{CondState::kOk, CondState::kOk, CondState::kOk,
                                               CondState::kNok}));
}

TEST(ConditionsTest, InstancesAreIndependent) {
  Conditions first;
  Conditions second;
  Recorder broke;
  second.API.add_broke_callback(broke.Callback());

  first.INTERNET.set_state(CondState::kNok);
  EXPECT_EQ(States(second), (std::vector<CondState>{CondState::kUnknown, CondState::kUnknown,
                                                    CondState::kUnknown, CondState::kUnknown}));
  EXPECT_EQ(second.tracker.get_worst(), nullptr);
  EXPECT_TRUE(broke.calls.empty());
  EXPECT_FALSE(second.tracker.is_tracked(&first.API));

  second.API.set_state(CondState::kOk);
  EXPECT_EQ(first.API.state(), CondState::kNok);
}

TEST(ConditionsTest, ConcurrentWritersAndReadersKeepTheTreeConsistent) {
  Conditions c;
  std::atomic<int> fixed_calls{0};
  std::atomic<int> broke_calls{0};
  c.INTERNET.add_fixed_callback([&](const Condition& condition, CondState) {
    // Callbacks run without the tree lock held, so reading is allowed.
    (void)condition.state();
    (void)c.tracker.get_worst();
    ++fixed_calls;
  });
  c.API.add_broke_callback([&](const Condition&, CondState) { ++broke_calls; });

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&c, t] {
      Condition* nodes[] = {&c.INTERNET, &c.HTTP, &c.TOKEN, &c.API};
      for (int i = 0; i < 20000; ++i) {
        nodes[(i + t) % 4]->set_state(i % 3 == 0 ? CondState::kNok : CondState::kOk);
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      // Each read is atomic on its own; successive reads may see different
      // trees, so only check what a single read guarantees.
      Condition* worst = c.tracker.get_worst();
      if (worst != nullptr) {
        EXPECT_GE(worst->priority(), 100);
      }
      (void)c.INTERNET.successors_ok();
      (void)c.API.ToString();
      (void)c.tracker.nok_conditions();
    }
  });
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();

  c.API.set_state(CondState::kOk);
  EXPECT_EQ(States(c), (std::vector<CondState>{CondState::kOk, CondState::kOk, CondState::kOk,
                                               CondState::kOk}));
  EXPECT_TRUE(c.INTERNET.successors_ok());
  EXPECT_GT(fixed_calls.load(), 0);
  EXPECT_GT(broke_calls.load(), 0);
}

}  // namespace
}  // namespace prusaconnect
