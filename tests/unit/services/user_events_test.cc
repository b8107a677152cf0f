// The user update log's commit-then-announce: a body the store runs more than once (group commit
// reruns a batch with savepoints when another body in it fails) announces only the events of the
// attempt that committed.
#include <gtest/gtest.h>

#include <optional>

#include "runtime/scope.h"
#include "services/storage/accounts.h"
#include "services/storage/group_commit_store.h"
#include "services/storage/migrator.h"
#include "services/updates/user_events.h"
#include "sim/network.h"
#include "sim/sim_bus.h"
#include "sim/sim_executor.h"
#include "sim/sim_store.h"
#include "sim/world.h"

namespace reliant::updates {
namespace {

struct Node {
  sim::World world{5};
  sim::Network network{milliseconds(0), milliseconds(0)};
  sim::SimBroker broker{world, network};
  sim::SimDatabase database{world, network};
  sim::NodeId node = world.add_node("api");
  sim::SimExecutor executor{world, node};
  sim::SimBus bus{broker, executor};
  sim::SimStore store{database, executor};

  void run_until_idle() {
    while (world.step()) {
    }
  }
};

template <class T>
Task<void> capture(Task<T> task, std::optional<T>* out) {
  *out = co_await task;
}

TEST(CommitAndAnnounce, ARerunBodyAnnouncesOnlyTheCommittedAttemptsEvents) {
  Node n;
  std::optional<Result<std::vector<std::int64_t>>> migrated;
  {
    Scope scope(n.executor);
    scope.spawn(capture(migrate_up(n.store, n.world.now()), &migrated));
    n.run_until_idle();
  }
  ASSERT_TRUE(migrated && *migrated) << (migrated ? migrated->error().message : "never ran");
  auto seeded = n.database.database().transact([](SqlTransaction& tx) {
    return insert_user(tx, User{"user-1", "one@example.com", "one", 0});
  });
  ASSERT_TRUE(seeded.has_value()) << seeded.error().message;

  std::vector<std::vector<UserEvent>> announced;
  auto subscription = n.bus.subscribe(user_subject("user-1"), [&announced](const BusMessage& m) {
    auto events = decode_announcement(m.data);
    ASSERT_TRUE(events.has_value()) << events.error().message;
    announced.push_back(std::move(*events));
  });
  ASSERT_TRUE(subscription.has_value());

  // One batch of two bodies: the first appends an event, the second fails, so the batch's
  // optimistic attempt rolls back and the first body runs again under a savepoint. A filler
  // transaction holds the only slot meanwhile, so both queue into the same batch.
  GroupCommitStore grouped(n.store, n.executor, GroupCommitOptions{8, 1});
  int appending_runs = 0;
  auto appending = [&appending_runs](SqlTransaction& tx,
                                     std::vector<UserEvent>& events) -> Result<void> {
    ++appending_runs;
    auto event = append_user_event(tx, {"user-1", 0, "chat_created", "chat-1", {}, 1});
    if (!event) return fail(event.error());
    events.push_back(std::move(*event));
    return {};
  };
  TransactionBody failing = [](SqlTransaction&) -> Result<void> {
    return fail(ErrorCode::failed_precondition, "refused");
  };
  std::optional<Result<void>> filled, appended, refused;
  {
    Scope scope(n.executor);
    scope.spawn(
        capture(grouped.transact([](SqlTransaction&) -> Result<void> { return {}; }), &filled));
    scope.spawn(capture(commit_and_announce(grouped, &n.bus, std::move(appending)), &appended));
    scope.spawn(capture(grouped.transact(std::move(failing)), &refused));
    n.run_until_idle();
  }
  ASSERT_TRUE(appended && *appended) << (appended ? appended->error().message : "never ran");
  ASSERT_TRUE(filled && *filled && refused && !*refused);
  EXPECT_EQ(grouped.batches(), 2u);
  EXPECT_EQ(grouped.reruns(), 1u);
  EXPECT_EQ(appending_runs, 2) << "the batch was not rerun: the test no longer covers a retry";

  ASSERT_EQ(announced.size(), 1u);
  ASSERT_EQ(announced[0].size(), 1u) << "the rolled-back attempt's event was announced too";
  EXPECT_EQ(announced[0][0].seq, 1);
  auto stored = n.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    auto read = read_user_events(tx, "user-1", 0, 10);
    if (!read) return fail(read.error());
    if (read->size() != 1) return fail(ErrorCode::internal, std::to_string(read->size()));
    return {};
  });
  EXPECT_TRUE(stored.has_value()) << "stored events: " << stored.error().message;
}

}  // namespace
}  // namespace reliant::updates
