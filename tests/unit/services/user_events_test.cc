// The user update log: commit-then-announce (a body the store runs more than once — group
// commit reruns a batch with savepoints when another body in it fails — announces only the events
// of the attempt that committed), and a feed's handling of announcements that cross on the bus.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "runtime/random.h"
#include "runtime/scope.h"
#include "services/storage/accounts.h"
#include "services/storage/group_commit_store.h"
#include "services/storage/migrator.h"
#include "services/updates/user_announcements.h"
#include "services/updates/user_events.h"
#include "services/updates/user_feed.h"
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

// Migrates the node's database and adds user-1.
void prepare(Node& n) {
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
}

// Keeps each announcement of user-1's, decoded, while the subscription lives.
Result<SubscriptionPtr> collect_announcements(Node& n,
                                              std::vector<std::vector<UserEvent>>& announced) {
  return n.bus.subscribe(user_subject("user-1"), [&announced](const BusMessage& m) {
    auto events = decode_announcement(m.data);
    ASSERT_TRUE(events.has_value()) << events.error().message;
    announced.push_back(std::move(*events));
  });
}

// A node whose user-1 announcements are collected, and a group-commit store on it whose one
// slot a filler transaction can hold, so that the bodies queued after it share a batch.
class CommitAndAnnounce : public ::testing::Test {
 protected:
  void SetUp() override {
    prepare(n);
    if (HasFatalFailure()) return;
    auto collecting = collect_announcements(n, announced);
    ASSERT_TRUE(collecting.has_value());
    subscription = std::move(*collecting);
  }

  Node n;
  std::vector<std::vector<UserEvent>> announced;
  SubscriptionPtr subscription;
  GroupCommitStore grouped{n.store, n.executor, GroupCommitOptions{8, 1}};
};

TEST_F(CommitAndAnnounce, ARerunBodyAnnouncesOnlyTheCommittedAttemptsEvents) {
  // One batch of two bodies: the first appends an event, the second fails, so the batch's
  // optimistic attempt rolls back and the first body runs again under a savepoint. A filler
  // transaction holds the only slot meanwhile, so both queue into the same batch.
  int appending_runs = 0;
  auto appending = [&appending_runs](SqlTransaction&,
                                     std::vector<UserEvent>& events) -> Result<void> {
    ++appending_runs;
    events.push_back(UserEvent{"user-1", 0, "chat_created", "chat-1", {}, 1});
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

// Two bodies of one batch: their events are numbered together before the commit, in the
// bodies' order, and each caller announces its own, numbered.
TEST_F(CommitAndAnnounce, TheBodiesOfABatchNumberTheirEventsTogetherInTheirOrder) {
  auto recording = [](std::string chat, int count) {
    return [chat, count](SqlTransaction&, std::vector<UserEvent>& events) -> Result<void> {
      for (int i = 0; i < count; ++i) events.push_back({"user-1", 0, "message", chat, {}, 1});
      return {};
    };
  };
  std::optional<Result<void>> filled, first, second;
  {
    Scope scope(n.executor);
    scope.spawn(capture(commit_and_announce(grouped, &n.bus, recording("chat-0", 1)), &filled));
    scope.spawn(capture(commit_and_announce(grouped, &n.bus, recording("chat-1", 2)), &first));
    scope.spawn(capture(commit_and_announce(grouped, &n.bus, recording("chat-2", 1)), &second));
    n.run_until_idle();
  }
  ASSERT_TRUE(filled && *filled && first && *first && second && *second);
  EXPECT_EQ(grouped.batches(), 2u) << "the two bodies did not share a batch";
  ASSERT_EQ(announced.size(), 3u);
  std::vector<std::pair<std::string, std::int64_t>> numbered;
  for (const auto& events : announced) {
    for (const auto& e : events) numbered.emplace_back(e.chat_id, e.seq);
  }
  EXPECT_EQ(numbered, (std::vector<std::pair<std::string, std::int64_t>>{
                          {"chat-0", 1}, {"chat-1", 2}, {"chat-1", 3}, {"chat-2", 4}}));
}

// Stores `events` the way a writer does, returns them numbered.
std::vector<UserEvent> store_events(Node& n, std::vector<UserEvent> events) {
  auto stored = n.database.database().transact([&n, &events](SqlTransaction& tx) {
    return append_user_events(tx, n.store.dialect(), events);
  });
  EXPECT_TRUE(stored.has_value()) << stored.error().message;
  return events;
}

// Stores two updates of user-1's chat-1.
std::vector<UserEvent> store_two(Node& n) {
  return store_events(n, {{"user-1", 0, "message", "chat-1", {{"n", 1}}, 1},
                          {"user-1", 0, "message", "chat-1", {{"n", 2}}, 2}});
}

// A feed of user-1's updates (`options` says of which chat, in what pages) on the node's ports.
struct OpenFeed {
  OpenFeed(Node& n, FeedOptions options)
      : env{n.executor, random, &n.bus, nullptr, &n.store, nullptr} {
    options.user_id = "user-1";
    auto opened = UserFeed::open(env, std::move(options));
    EXPECT_TRUE(opened.has_value());
    if (opened) feed = std::move(*opened);
  }
  Random random{3};
  Env env;
  std::unique_ptr<UserFeed> feed;
};

// Appends the numbers of what a next() returned, which must be updates, not a failure.
void take_seqs(const Result<std::vector<UserEvent>>& got, std::vector<std::int64_t>& seqs) {
  EXPECT_TRUE(got.has_value());
  if (!got) return;
  for (const auto& e : *got) seqs.push_back(e.seq);
}

// A feed after its first read; then two updates are stored and those at `announced` (indexes,
// in the order given) announced, and the feed's next updates are taken.
struct FeedRun {
  std::vector<std::int64_t> seqs;  // what the second next() returned
  std::uint64_t store_reads = 0;
  Duration waited{};  // simulated time the second next() took
};
FeedRun follow(const std::vector<std::size_t>& announced) {
  Node n;
  prepare(n);
  if (::testing::Test::HasFatalFailure()) return {};
  OpenFeed opened(n, {});
  if (opened.feed == nullptr) return {};
  UserFeed* feed = opened.feed.get();
  FeedRun run;
  auto body = [&]() -> Task<void> {
    auto first = co_await feed->next(Duration::zero());  // the first read: nothing yet
    EXPECT_TRUE(first.has_value() && first->empty());
    const auto events = store_two(n);
    for (std::size_t i : announced) announce(n.bus, {events[i]});
    const SteadyInstant start = n.executor.steady_now();
    auto got = co_await feed->next(seconds(5));
    run.waited = n.executor.steady_now() - start;
    take_seqs(got, run.seqs);
    run.store_reads = feed->store_reads();
  };
  Scope scope(n.executor);
  scope.spawn(body());
  n.run_until_idle();
  return run;
}

TEST(UserFeed, CrossedAnnouncementsAreTakenInOrderWithoutReadingTheStore) {
  const FeedRun run = follow({1, 0});  // the later commit's writer announces first
  EXPECT_EQ(run.seqs, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(run.store_reads, 1u) << "only the first read: the announcements filled the gap";
  EXPECT_LT(run.waited, FeedOptions{}.gap_wait);
}

TEST(UserFeed, AGapThatStaysIsReadFromTheStoreAfterItsWait) {
  const FeedRun run = follow({1});  // the announcement of 1 is lost
  EXPECT_EQ(run.seqs, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(run.store_reads, 2u);
  EXPECT_GE(run.waited, FeedOptions{}.gap_wait);
  EXPECT_LT(run.waited, FeedOptions{}.poll_interval) << "read for the gap, not by the poll";
}

// A chat's feed catches up on its chat alone: from number 0 over a user's long log of another
// chat's events, one read takes the chat's three and moves past the rest, and the next
// announcement, which continues the user's numbers, is taken without reading again.
TEST(UserFeed, AChatsFeedCatchesUpOnItsChatAlone) {
  Node n;
  prepare(n);
  if (::testing::Test::HasFatalFailure()) return;
  auto stored = n.database.database().transact([&n](SqlTransaction& tx) -> Result<void> {
    std::vector<UserEvent> events;
    for (int i = 0; i < 1'200; ++i) {
      const bool mine = i == 5 || i == 600 || i == 1'199;
      events.push_back({"user-1", 0, "message", mine ? "chat-2" : "chat-1", {{"i", i}}, 1});
    }
    return append_user_events(tx, n.store.dialect(), events);
  });
  ASSERT_TRUE(stored.has_value()) << stored.error().message;
  FeedOptions options;
  options.chat_id = "chat-2";
  options.batch = 2;  // smaller than the chat's events: the catching up takes two pages
  OpenFeed opened(n, options);
  ASSERT_NE(opened.feed, nullptr);
  UserFeed* feed = opened.feed.get();
  std::vector<std::int64_t> seqs;
  auto body = [&]() -> Task<void> {
    for (int page = 0; page < 2; ++page) {
      auto caught_up = co_await feed->next(Duration::zero());
      take_seqs(caught_up, seqs);
    }
    EXPECT_EQ(feed->store_reads(), 2u) << "two pages of the chat's events";
    announce(n.bus, {UserEvent{"user-1", 1'201, "message", "chat-2", {{"i", 1'200}}, 2}});
    auto next = co_await feed->next(seconds(1));
    take_seqs(next, seqs);
    EXPECT_EQ(feed->store_reads(), 2u) << "1,201 continues the numbers the reads covered";
  };
  Scope scope(n.executor);
  scope.spawn(body());
  n.run_until_idle();
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{6, 601, 1'200, 1'201}));
}

// Updates older than kUserEventsKeptMs are pruned as the log grows: a feed whose client resumes
// from before the oldest kept fails with failed_precondition, says from where, and stays done
// (its stream tells the client to read the state afresh); one resuming from the oldest kept on
// reads on.
TEST(UserFeed, AFeedResumingFromBeforeThePrunedUpdatesIsToldAndIsDone) {
  Node n;
  prepare(n);
  if (::testing::Test::HasFatalFailure()) return;
  std::vector<UserEvent> old_events, young_events;
  for (int i = 0; i < 300; ++i) old_events.push_back({"user-1", 0, "message", "chat-1", {}, 1});
  store_events(n, std::move(old_events));
  // The append that crosses 512 prunes the 300 old ones (young: a week and more later).
  for (int i = 0; i < 212; ++i)
    young_events.push_back({"user-1", 0, "message", "chat-1", {}, 2 + kUserEventsKeptMs});
  store_events(n, std::move(young_events));
  for (const std::int64_t since : {std::int64_t{0}, std::int64_t{299}, std::int64_t{300}}) {
    FeedOptions options;
    options.since_seq = since;
    OpenFeed opened(n, options);
    ASSERT_NE(opened.feed, nullptr);
    UserFeed* feed = opened.feed.get();
    std::vector<std::int64_t> seqs;
    auto body = [&]() -> Task<void> {
      auto first = co_await feed->next(Duration::zero());
      if (since < 300) {
        EXPECT_FALSE(first.has_value()) << since;
        if (!first) {
          EXPECT_EQ(first.error().code, ErrorCode::failed_precondition);
          EXPECT_NE(first.error().message.find("after " + std::to_string(since)), std::string::npos)
              << first.error().message;
        }
        EXPECT_TRUE(feed->gone());
        // Done: an announcement is not taken, and the feed still says why it ended.
        announce(n.bus, {UserEvent{"user-1", 513, "message", "chat-1", {}, 3 + kUserEventsKeptMs}});
        auto again = co_await feed->next(Duration::zero());
        EXPECT_FALSE(again.has_value()) << "the feed is done";
        if (!again) {
          EXPECT_EQ(again.error().code, ErrorCode::failed_precondition);
        }
        co_return;
      }
      take_seqs(first, seqs);
      EXPECT_FALSE(feed->gone());
    };
    Scope scope(n.executor);
    scope.spawn(body());
    n.run_until_idle();
    if (since == 300) {
      ASSERT_EQ(seqs.size(), 212u);
      EXPECT_EQ(seqs.front(), 301);
      EXPECT_EQ(seqs.back(), 512);
    }
  }
}

// A feed resuming from a number past the user's head (from another server's data, or made up)
// would wait for it in silence while every update up to it went by: it is told, and is done,
// as one resuming from pruned updates is — for a user with updates and for one with none yet.
TEST(UserFeed, AFeedResumingFromPastTheHeadIsToldAndIsDone) {
  Node n;
  prepare(n);
  if (::testing::Test::HasFatalFailure()) return;
  for (const bool any_updates : {false, true}) {
    if (any_updates) store_two(n);
    for (const std::int64_t since : {std::int64_t{3}, std::int64_t{99'999'999}}) {
      FeedOptions options;
      options.since_seq = since;
      OpenFeed opened(n, options);
      ASSERT_NE(opened.feed, nullptr);
      UserFeed* feed = opened.feed.get();
      auto body = [&]() -> Task<void> {
        auto first = co_await feed->next(Duration::zero());
        EXPECT_FALSE(first.has_value()) << since;
        if (!first) {
          EXPECT_EQ(first.error().code, ErrorCode::failed_precondition);
          EXPECT_NE(first.error().message.find("no update " + std::to_string(since) + " yet"),
                    std::string::npos)
              << first.error().message;
        }
        EXPECT_TRUE(feed->gone());
      };
      Scope scope(n.executor);
      scope.spawn(body());
      n.run_until_idle();
    }
  }
  // Its head itself is a number the store gave: a feed from there reads on.
  FeedOptions options;
  options.since_seq = 2;
  OpenFeed opened(n, options);
  ASSERT_NE(opened.feed, nullptr);
  auto body = [&]() -> Task<void> {
    auto first = co_await opened.feed->next(Duration::zero());
    EXPECT_TRUE(first.has_value() && first->empty());
    EXPECT_FALSE(opened.feed->gone());
  };
  Scope scope(n.executor);
  scope.spawn(body());
  n.run_until_idle();
}

// A chat's event announced ahead of a gap waits in the feed; the read for the gap returns it
// too. It is delivered once.
TEST(UserFeed, AChatsEventThatWaitedForAGapIsDeliveredOnceWhenTheReadBringsItToo) {
  Node n;
  prepare(n);
  if (::testing::Test::HasFatalFailure()) return;
  store_events(n, {{"user-1", 0, "message", "chat-1", {{"i", 1}}, 1}});
  FeedOptions options;
  options.chat_id = "chat-2";
  OpenFeed opened(n, options);
  ASSERT_NE(opened.feed, nullptr);
  UserFeed* feed = opened.feed.get();
  std::vector<std::int64_t> seqs;
  auto body = [&]() -> Task<void> {
    auto first = co_await feed->next(Duration::zero());  // covers number 1
    EXPECT_TRUE(first.has_value() && first->empty());
    const auto events = store_events(n, {{"user-1", 0, "message", "chat-1", {{"i", 2}}, 2},
                                         {"user-1", 0, "message", "chat-2", {{"i", 3}}, 2}});
    announce(n.bus, {events[1]});  // number 2's announcement is lost
    auto next = co_await feed->next(seconds(5));
    take_seqs(next, seqs);
    EXPECT_EQ(feed->store_reads(), 2u) << "the gap was read";
  };
  Scope scope(n.executor);
  scope.spawn(body());
  n.run_until_idle();
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{3}));
}

// Two chats' feeds of one user on one process's announcements: one bus subscription for both,
// each feed takes its chat's events from the same announcements (no read but the first), and
// the subscription goes with the last feed.
TEST(UserAnnouncements, TheFeedsOfOneUserShareOneSubscriptionAndEachTakesItsChat) {
  Node n;
  prepare(n);
  if (::testing::Test::HasFatalFailure()) return;
  auto announcements = std::make_shared<UserAnnouncements>(n.bus);
  std::vector<std::unique_ptr<OpenFeed>> feeds;
  for (const char* chat : {"chat-1", "chat-2"}) {
    FeedOptions options;
    options.chat_id = chat;
    options.announcements = announcements;
    feeds.push_back(std::make_unique<OpenFeed>(n, options));
    ASSERT_NE(feeds.back()->feed, nullptr);
  }
  EXPECT_EQ(announcements->users(), 1u);
  std::vector<std::int64_t> seqs[2];
  auto body = [&]() -> Task<void> {
    for (auto& opened : feeds) {
      auto first = co_await opened->feed->next(Duration::zero());
      EXPECT_TRUE(first.has_value() && first->empty());
    }
    const auto events = store_events(n, {{"user-1", 0, "message", "chat-2", {{"i", 1}}, 1},
                                         {"user-1", 0, "message", "chat-1", {{"i", 2}}, 1},
                                         {"user-1", 0, "message", "chat-2", {{"i", 3}}, 1}});
    announce(n.bus, events);
    for (int i = 0; i < 2; ++i) {
      auto got = co_await feeds[i]->feed->next(seconds(5));
      take_seqs(got, seqs[i]);
      EXPECT_EQ(feeds[i]->feed->store_reads(), 1u) << "only the first read: " << i;
    }
  };
  {
    Scope scope(n.executor);
    scope.spawn(body());
    n.run_until_idle();
  }
  EXPECT_EQ(seqs[0], (std::vector<std::int64_t>{2}));
  EXPECT_EQ(seqs[1], (std::vector<std::int64_t>{1, 3}));
  feeds.clear();
  EXPECT_EQ(announcements->users(), 0u);
}

// A listener may drop its own handle, or another's, while it is offered an announcement: the
// others still get it (those still listening), and the user's subscription goes after the last.
TEST(UserAnnouncements, AListenerThatLeavesDuringAnAnnouncementLeavesTheOthersTheirs) {
  Node n;
  UserAnnouncements announcements(n.bus);
  SubscriptionPtr first, second, third;
  int heard[3] = {0, 0, 0};
  auto listen = [&](int i, SubscriptionPtr& handle, AnnouncementListener then) {
    auto listening = announcements.listen("user-1", [&, i, then](const Announcement& a) {
      ++heard[i];
      EXPECT_EQ(a.events.size(), 1u);
      if (then) then(a);
    });
    ASSERT_TRUE(listening.has_value());
    handle = std::move(*listening);
  };
  listen(0, first, [&](const Announcement&) {
    first.reset();
    third.reset();  // not yet offered this one: it never is
  });
  listen(1, second, nullptr);
  listen(2, third, nullptr);
  announce(n.bus, {UserEvent{"user-1", 1, "message", "chat-1", {}, 1}});
  n.run_until_idle();
  EXPECT_EQ(heard[0], 1);
  EXPECT_EQ(heard[1], 1);
  EXPECT_EQ(heard[2], 0);
  EXPECT_EQ(announcements.users(), 1u);
  second.reset();
  EXPECT_EQ(announcements.users(), 0u);
  announce(n.bus, {UserEvent{"user-1", 2, "message", "chat-1", {}, 1}});
  n.run_until_idle();
  EXPECT_EQ(heard[1], 1) << "a listener heard after it left";
}

}  // namespace
}  // namespace reliant::updates

namespace reliant::updates {
namespace {

// A holder that counts being asked to give up.
struct CountingHolder final : UpdateBudget::Holder {
  int asked = 0;
  void give_up() override { ++asked; }
};

TEST(UpdateBudget, TheLargestHoldersGiveUpFirstUntilTheRestFit) {
  UpdateBudget budget(1000);
  CountingHolder small, middle, large;
  const auto s = budget.join(small);
  const auto m = budget.join(middle);
  const auto l = budget.join(large);
  budget.hold(s, 100);
  budget.hold(m, 300);
  budget.hold(l, 500);
  EXPECT_EQ(budget.held_bytes(), 900u);
  EXPECT_EQ(large.asked + middle.asked + small.asked, 0);
  budget.hold(s, 700);  // 1,500 held: the largest (small, now 700) goes, then 800 fit
  EXPECT_EQ(small.asked, 1);
  EXPECT_EQ(large.asked + middle.asked, 0);
  EXPECT_EQ(budget.held_bytes(), 800u);
  budget.hold(m, 900);  // 1,400: middle (900) goes; 500 fit
  EXPECT_EQ(middle.asked, 1);
  EXPECT_EQ(budget.held_bytes(), 500u);
  // What a holder that gave up still holds counts, but it is not asked again.
  budget.hold(s, 600);
  EXPECT_EQ(small.asked, 1);
  EXPECT_EQ(large.asked, 1) << "the one left to ask";
  EXPECT_EQ(budget.held_bytes(), 600u);
  EXPECT_EQ(budget.given_up(), 3u);
  budget.leave(s);
  budget.leave(m);
  budget.leave(l);
  EXPECT_EQ(budget.held_bytes(), 0u);
}

// Two streams of one user that never read: what waits for them together stays within the
// server's budget. The one that holds the most gives up and says why; the other goes on.
TEST(UpdateBudget, AFeedAskedToGiveUpEndsWithWhereToResume) {
  Node n;
  prepare(n);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto shared_budget = std::make_shared<UpdateBudget>(5'000);
  UpdateBudget& budget = *shared_budget;
  FeedOptions everything;
  everything.budget = shared_budget;
  FeedOptions one_chat = everything;
  one_chat.chat_id = "chat-1";
  OpenFeed all(n, everything);
  OpenFeed chat(n, one_chat);
  ASSERT_NE(all.feed, nullptr);
  ASSERT_NE(chat.feed, nullptr);
  std::optional<Result<std::vector<UserEvent>>> first_all, first_chat;
  {
    Scope scope(n.executor);
    scope.spawn(capture(all.feed->next(Duration::zero()), &first_all));
    scope.spawn(capture(chat.feed->next(Duration::zero()), &first_chat));
    n.run_until_idle();
  }
  for (int i = 0; i < 20; ++i) {
    const auto events = store_events(n, {{"user-1",
                                          0,
                                          "message",
                                          i % 2 == 0 ? "chat-1" : "chat-2",
                                          {{"text", std::string(300, 'x')}},
                                          i}});
    announce(n.bus, events);
    n.run_until_idle();
  }
  EXPECT_LE(budget.held_bytes(), budget.bytes_max());
  EXPECT_EQ(budget.given_up(), 1u);
  std::optional<Result<std::vector<UserEvent>>> next_all, next_chat;
  {
    Scope scope(n.executor);
    scope.spawn(capture(all.feed->next(Duration::zero()), &next_all));
    scope.spawn(capture(chat.feed->next(Duration::zero()), &next_chat));
    n.run_until_idle();
  }
  ASSERT_TRUE(next_all.has_value());
  ASSERT_FALSE(next_all->has_value()) << "the feed of every chat held the most";
  EXPECT_EQ(next_all->error().code, ErrorCode::resource_exhausted);
  EXPECT_NE(next_all->error().message.find("the server holds too many updates"), std::string::npos)
      << next_all->error().message;
  EXPECT_NE(next_all->error().message.find("resume from since_seq"), std::string::npos);
  ASSERT_TRUE(next_chat.has_value());
  ASSERT_TRUE(next_chat->has_value()) << next_chat->error().message;
  EXPECT_EQ((*next_chat)->size(), 10u);
}

// A stream writes a batch in pieces. One cut short between them tells its client to resume after
// the last piece it wrote: the batch's end would make the client skip what it never got.
TEST(UpdateBudget, AStreamCutShortMidBatchResumesAfterWhatItWrote) {
  Node n;
  prepare(n);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  FeedOptions small;
  small.queued_bytes_max = 2'000;
  OpenFeed open(n, small);
  ASSERT_NE(open.feed, nullptr);
  std::vector<UserEvent> three;
  for (int i = 0; i < 3; ++i) three.push_back({"user-1", 0, "message", "chat-1", {{"i", i}}, i});
  announce(n.bus, store_events(n, three));
  n.run_until_idle();
  std::optional<Result<std::vector<UserEvent>>> batch;
  {
    Scope scope(n.executor);
    scope.spawn(capture(open.feed->next(Duration::zero()), &batch));
    n.run_until_idle();
  }
  ASSERT_TRUE(batch && batch->has_value());
  ASSERT_EQ((*batch)->size(), 3u);
  open.feed->delivered((**batch)[0].seq);  // the first piece went out; then the client stalled
  for (int i = 0; i < 10 && !open.feed->overflowed(); ++i) {
    announce(
        n.bus,
        store_events(
            n, {{"user-1", 0, "message", "chat-1", {{"text", std::string(500, 'x')}}, 10 + i}}));
    n.run_until_idle();
  }
  ASSERT_TRUE(open.feed->overflowed());
  std::optional<Result<std::vector<UserEvent>>> end;
  {
    Scope scope(n.executor);
    scope.spawn(capture(open.feed->next(Duration::zero()), &end));
    n.run_until_idle();
  }
  ASSERT_TRUE(end && !end->has_value());
  EXPECT_TRUE(
      end->error().message.ends_with("; resume from since_seq " + std::to_string((**batch)[0].seq)))
      << "not past the two events it never wrote: " << end->error().message;
}

}  // namespace
}  // namespace reliant::updates
