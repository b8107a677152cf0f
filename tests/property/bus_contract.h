// The Bus contract suite: NATS core semantics (docs/architecture.md §4) that every Bus
// implementation must pass, written against an abstract BusHarness and instantiated once per
// implementation.
//
// To add an implementation, write a harness class deriving from BusHarness, constructible from a
// std::uint64_t seed (fault-free; the seed only fixes choices such as queue-group picks and
// latencies, so a rapidcheck failure reproduces), and in a .cc file of this folder:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, BusContract, ::testing::Types<NameHarness>);
// It may declare `static constexpr int kCasesMax` to cap the generated cases per property.
// Every property builds a fresh harness per generated case, so cases never see each other's
// subscriptions or messages in flight.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "property/property_check.h"
#include "property/subject_oracle.h"
#include "runtime/bus.h"
#include "runtime/executor.h"
#include "runtime/scope.h"
#include "runtime/subject.h"
#include "runtime/task.h"

namespace reliant::contract {

// What the suite needs from an implementation: a few connections to one broker, and control over
// the passage of time. No faults: the contract is about what a healthy bus guarantees.
class BusHarness {
 public:
  static constexpr int kConnections = 8;

  virtual ~BusHarness() = default;
  // Distinct connections to the same broker, i in [0, kConnections). In the simulator each is on
  // its own node, so messages between them cross the simulated network.
  virtual Bus& connection(int i) = 0;
  // The executor connection(i)'s handlers run on.
  virtual Executor& executor(int i) = 0;
  // Runs until nothing is in flight: every published message delivered, every handler run, and
  // every pending timer fired (so a request still waiting for a reply times out).
  virtual void settle() = 0;
  // Lets `d` pass (virtual or real), running whatever falls due meanwhile.
  virtual void run_for(Duration d) = 0;
};

// Handlers only record: an assertion failing inside a handler would unwind through the
// executor's loop instead of reaching rapidcheck.
inline BusHandler record_into(std::vector<BusMessage>* out) {
  return [out](const BusMessage& m) { out->push_back(m); };
}

inline SubscriptionPtr subscribed(Result<SubscriptionPtr> result) {
  if (!result) RC_FAIL("subscribe failed: " + result.error().describe());
  return std::move(*result);
}

inline void published(const Result<void>& result) {
  if (!result) RC_FAIL("publish failed: " + result.error().describe());
}

inline rc::Gen<int> gen_connection() { return rc::gen::inRange(0, BusHarness::kConnections); }

inline std::vector<std::string> data_of(const std::vector<BusMessage>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.data);
  return out;
}

// The outcome of one request(), filled in by request_into.
struct RequestOutcome {
  std::optional<Result<BusMessage>> result;
  Instant started{};
  Instant finished{};
};

// A free function rather than a capturing lambda, and the awaited Task is a named local: both
// sidestep GCC 12 coroutine bugs (docs/architecture.md §10).
inline Task<void> request_into(Bus& bus, Executor& executor, std::string subject, std::string data,
                               Duration timeout, RequestOutcome* out) {
  out->started = executor.now();
  Task<Result<BusMessage>> pending = bus.request(std::move(subject), std::move(data), timeout);
  Result<BusMessage> result = co_await pending;
  out->finished = executor.now();
  out->result = std::move(result);
}

// Replies to every request it sees with "<tag>|<request data>".
inline BusHandler echo_responder(Bus* bus, std::string tag, int* failed_replies) {
  return [bus, tag = std::move(tag), failed_replies](const BusMessage& m) {
    if (m.reply_to.empty()) return;
    const auto sent = bus->publish(m.reply_to, tag + "|" + m.data);
    if (!sent) ++*failed_replies;
  };
}

// How many generated cases a property runs: `wanted`, unless the harness caps it with
// `static constexpr int kCasesMax` (for harnesses whose cases are costly, e.g. real sockets).
template <class Harness>
constexpr int cases(int wanted) {
  if constexpr (requires { Harness::kCasesMax; }) {
    return std::min(wanted, static_cast<int>(Harness::kCasesMax));
  } else {
    return wanted;
  }
}

template <class Harness>
class BusContract : public ::testing::Test {};

TYPED_TEST_SUITE_P(BusContract);

// A subscription to P receives exactly the published subjects that P matches (per the oracle),
// each once and in publish order; and subject_matches agrees with the oracle on every pair.
TYPED_TEST_P(BusContract, SubscriptionReceivesExactlyMatchingSubjects) {
  property::check_property(cases<TypeParam>(200), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string pattern = *property::gen_pattern();
    const int count = *rc::gen::inRange(1, 21);
    std::vector<std::string> subjects;
    for (int i = 0; i < count; ++i) subjects.push_back(*property::gen_subject_near(pattern));
    const int subscriber = *gen_connection();
    const int publisher = *gen_connection();

    TypeParam harness(seed);
    std::vector<BusMessage> received;
    auto subscription =
        subscribed(harness.connection(subscriber).subscribe(pattern, record_into(&received)));
    std::vector<std::string> expected_data;
    std::vector<std::string> expected_subjects;
    for (int i = 0; i < count; ++i) {
      const bool matches = property::oracle_matches(pattern, subjects[i]);
      RC_ASSERT(subject_matches(pattern, subjects[i]) == matches);
      if (matches) {
        expected_data.push_back(std::to_string(i));
        expected_subjects.push_back(subjects[i]);
      }
      published(harness.connection(publisher).publish(subjects[i], std::to_string(i)));
    }
    harness.settle();

    RC_ASSERT(data_of(received) == expected_data);
    std::vector<std::string> received_subjects;
    for (const auto& m : received) received_subjects.push_back(m.subject);
    RC_ASSERT(received_subjects == expected_subjects);
    for (const auto& m : received) RC_ASSERT(m.reply_to.empty());
  });
}

// N members of group "g" (one shared pattern) spread over connections, plus K plain subscribers:
// each message reaches exactly one member, and every plain subscriber once, in order.
TYPED_TEST_P(BusContract, QueueGroupDeliversEachMessageToExactlyOneMember) {
  property::check_property(cases<TypeParam>(150), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string subject = *property::gen_subject();
    const std::string group_pattern = *property::gen_pattern_matching(subject);
    const int members = *rc::gen::inRange(1, 6);
    const int plain = *rc::gen::inRange(0, 4);
    const int messages = *rc::gen::inRange(1, 51);
    const int publisher = *gen_connection();

    TypeParam harness(seed);
    std::vector<std::vector<BusMessage>> member_got(members);
    std::vector<std::vector<BusMessage>> plain_got(plain);
    std::vector<SubscriptionPtr> subscriptions;
    for (int m = 0; m < members; ++m) {
      subscriptions.push_back(
          subscribed(harness.connection(*gen_connection())
                         .queue_subscribe(group_pattern, "g", record_into(&member_got[m]))));
    }
    for (int k = 0; k < plain; ++k) {
      const std::string pattern = *property::gen_pattern_matching(subject);
      subscriptions.push_back(subscribed(
          harness.connection(*gen_connection()).subscribe(pattern, record_into(&plain_got[k]))));
    }
    std::vector<std::string> all;
    for (int i = 0; i < messages; ++i) {
      all.push_back(std::to_string(i));
      published(harness.connection(publisher).publish(subject, std::to_string(i)));
    }
    harness.settle();

    std::map<std::string, int> copies;
    for (const auto& got : member_got) {
      for (const auto& m : got) ++copies[m.data];
    }
    for (const auto& data : all) RC_ASSERT(copies[data] == 1);
    RC_ASSERT(copies.size() == all.size());
    for (const auto& got : plain_got) RC_ASSERT(data_of(got) == all);
  });
}

// Two groups matching the same subject each get one copy of every message.
TYPED_TEST_P(BusContract, EachQueueGroupGetsOneCopy) {
  property::check_property(cases<TypeParam>(150), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string subject = *property::gen_subject();
    const std::vector<std::string> groups = {"g1", "g2"};
    const std::vector<std::string> patterns = {*property::gen_pattern_matching(subject),
                                               *property::gen_pattern_matching(subject)};
    const std::vector<int> sizes = {*rc::gen::inRange(1, 4), *rc::gen::inRange(1, 4)};
    const int messages = *rc::gen::inRange(1, 31);
    const int publisher = *gen_connection();

    TypeParam harness(seed);
    std::vector<std::vector<std::vector<BusMessage>>> got(2);
    std::vector<SubscriptionPtr> subscriptions;
    for (int g = 0; g < 2; ++g) {
      got[g].resize(sizes[g]);
      for (int m = 0; m < sizes[g]; ++m) {
        subscriptions.push_back(
            subscribed(harness.connection(*gen_connection())
                           .queue_subscribe(patterns[g], groups[g], record_into(&got[g][m]))));
      }
    }
    for (int i = 0; i < messages; ++i) {
      published(harness.connection(publisher).publish(subject, std::to_string(i)));
    }
    harness.settle();

    for (int g = 0; g < 2; ++g) {
      std::map<std::string, int> copies;
      for (const auto& member : got[g]) {
        for (const auto& m : member) ++copies[m.data];
      }
      RC_ASSERT(static_cast<int>(copies.size()) == messages);
      for (const auto& [data, n] : copies) RC_ASSERT(n == 1);
    }
  });
}

// In NATS a queue group is identified by its name alone: members subscribed with different
// patterns that all match a subject still share each message (nats-server groups the matching
// queue subscriptions by queue name; verified against nats-server 2.9.10). Minimal case.
TYPED_TEST_P(BusContract, QueueGroupSpansDifferentPatterns) {
  TypeParam harness(1);
  std::vector<BusMessage> wildcard_member;
  std::vector<BusMessage> literal_member;
  auto a = harness.connection(0).queue_subscribe("q.*", "g", record_into(&wildcard_member));
  auto b = harness.connection(1).queue_subscribe("q.x", "g", record_into(&literal_member));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  const int messages = 10;
  for (int i = 0; i < messages; ++i) {
    ASSERT_TRUE(harness.connection(2).publish("q.x", std::to_string(i)).has_value());
  }
  harness.settle();
  EXPECT_EQ(wildcard_member.size() + literal_member.size(), static_cast<std::size_t>(messages))
      << "each message must reach exactly one member of group g";
}

// request() returns a responder's reply to its own request, whoever answers (plain or queue
// responders, several concurrent requests, silent subscribers alongside).
TYPED_TEST_P(BusContract, RequestReturnsAReplyToItsOwnRequest) {
  property::check_property(cases<TypeParam>(150), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string subject = *property::gen_subject();
    const int responders = *rc::gen::inRange(1, 4);
    const int silent = *rc::gen::inRange(0, 3);
    const int requests = *rc::gen::inRange(1, 6);

    TypeParam harness(seed);
    int failed_replies = 0;
    std::vector<std::vector<BusMessage>> silent_got(silent);
    std::vector<SubscriptionPtr> subscriptions;
    std::set<std::string> tags;
    for (int r = 0; r < responders; ++r) {
      const int c = *gen_connection();
      const std::string pattern = *property::gen_pattern_matching(subject);
      const std::string tag = "r" + std::to_string(r);
      tags.insert(tag);
      auto handler = echo_responder(&harness.connection(c), tag, &failed_replies);
      if (*rc::gen::arbitrary<bool>()) {
        subscriptions.push_back(
            subscribed(harness.connection(c).queue_subscribe(pattern, "workers", handler)));
      } else {
        subscriptions.push_back(subscribed(harness.connection(c).subscribe(pattern, handler)));
      }
    }
    for (int s = 0; s < silent; ++s) {
      const std::string pattern = *property::gen_pattern_matching(subject);
      subscriptions.push_back(subscribed(
          harness.connection(*gen_connection()).subscribe(pattern, record_into(&silent_got[s]))));
    }
    std::vector<RequestOutcome> outcomes(requests);
    std::vector<std::string> payloads;
    std::vector<std::unique_ptr<Scope>> scopes;
    for (int q = 0; q < requests; ++q) {
      const int c = *gen_connection();
      payloads.push_back("d" + std::to_string(q) + "-" + *property::gen_token());
      scopes.push_back(std::make_unique<Scope>(harness.executor(c)));
      scopes.back()->spawn(request_into(harness.connection(c), harness.executor(c), subject,
                                        payloads.back(), seconds(5), &outcomes[q]));
    }
    harness.settle();

    RC_ASSERT(failed_replies == 0);
    for (int q = 0; q < requests; ++q) {
      RC_ASSERT(outcomes[q].result.has_value());
      const auto& result = *outcomes[q].result;
      if (!result) RC_FAIL("request failed: " + result.error().describe());
      const auto bar = result->data.find('|');
      RC_ASSERT(bar != std::string::npos);
      RC_ASSERT(tags.count(result->data.substr(0, bar)) == 1);
      RC_ASSERT(result->data.substr(bar + 1) == payloads[q]);
      RC_ASSERT(!result->no_responders);
    }
    // Silent subscribers saw every request, each with a reply subject. (A pattern like `>` also
    // sees the replies on the requesters' inboxes, hence the filter.)
    for (const auto& got : silent_got) {
      int seen = 0;
      for (const auto& m : got) {
        if (m.subject != subject) continue;
        ++seen;
        RC_ASSERT(!m.reply_to.empty());
      }
      RC_ASSERT(seen == requests);
    }
  });
}

// Nobody subscribed to the subject (only to subjects that do not match it): request() fails
// with no_responders, long before its timeout.
TYPED_TEST_P(BusContract, RequestWithoutSubscribersFailsFastWithNoResponders) {
  property::check_property(cases<TypeParam>(150), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string subject = *property::gen_subject();
    const int unrelated = *rc::gen::inRange(0, 4);
    const int requester = *gen_connection();
    const Duration timeout = seconds(2);

    TypeParam harness(seed);
    std::vector<std::vector<BusMessage>> unrelated_got(unrelated);
    std::vector<SubscriptionPtr> subscriptions;
    for (int u = 0; u < unrelated; ++u) {
      const std::string pattern = *property::gen_pattern();
      if (property::oracle_matches(pattern, subject)) continue;
      subscriptions.push_back(subscribed(harness.connection(*gen_connection())
                                             .subscribe(pattern, record_into(&unrelated_got[u]))));
    }
    RequestOutcome outcome;
    auto scope = std::make_unique<Scope>(harness.executor(requester));
    scope->spawn(request_into(harness.connection(requester), harness.executor(requester), subject,
                              "ping", timeout, &outcome));
    harness.settle();

    RC_ASSERT(outcome.result.has_value());
    RC_ASSERT(!outcome.result->has_value());
    RC_ASSERT(outcome.result->error().code == ErrorCode::no_responders);
    // The code above already rules out a timeout; this only checks the answer was not held back
    // (generous: real servers on a loaded CI machine are slow, not wrong).
    RC_ASSERT(outcome.finished - outcome.started < timeout / 2);
    // None of them saw the request. (Whether one whose pattern happens to match the requester's
    // inbox may see the no-responders status is NoRespondersStatusGoesOnlyToTheRequester's job.)
    for (const auto& got : unrelated_got) {
      for (const auto& m : got) RC_ASSERT(m.subject != subject);
    }
  });
}

// nats-server sends the no-responders status only to the requesting connection, not to other
// connections whose subscriptions happen to match the inbox (verified against nats-server
// 2.9.10 with nats.c: a second connection subscribed to "_INBOX.>" receives nothing while the
// request fails with no responders). Minimal case.
TYPED_TEST_P(BusContract, NoRespondersStatusGoesOnlyToTheRequester) {
  TypeParam harness(1);
  std::vector<BusMessage> tap_got;
  auto tap = harness.connection(1).subscribe("_INBOX.>", record_into(&tap_got));
  ASSERT_TRUE(tap.has_value());
  RequestOutcome outcome;
  auto scope = std::make_unique<Scope>(harness.executor(0));
  scope->spawn(request_into(harness.connection(0), harness.executor(0), "nobody.home", "ping",
                            seconds(1), &outcome));
  harness.settle();
  ASSERT_TRUE(outcome.result.has_value());
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, ErrorCode::no_responders);
  EXPECT_TRUE(tap_got.empty()) << "another connection received " << tap_got.size()
                               << " message(s) on " << tap_got.front().subject
                               << " (no_responders=" << tap_got.front().no_responders << ")";
}

// A subscriber that never replies: request() fails with timeout once the timeout has passed,
// and not before. Few cases: with real executors this waits in real time.
TYPED_TEST_P(BusContract, RequestToSilentSubscriberTimesOut) {
  property::check_property(cases<TypeParam>(2), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string subject = *property::gen_subject();
    const int silent = *rc::gen::inRange(1, 3);
    const int requester = *gen_connection();
    const Duration timeout = milliseconds(*rc::gen::inRange(20, 41));

    TypeParam harness(seed);
    std::vector<std::vector<BusMessage>> silent_got(silent);
    std::vector<SubscriptionPtr> subscriptions;
    for (int s = 0; s < silent; ++s) {
      const std::string pattern = *property::gen_pattern_matching(subject);
      subscriptions.push_back(subscribed(
          harness.connection(*gen_connection()).subscribe(pattern, record_into(&silent_got[s]))));
    }
    RequestOutcome outcome;
    auto scope = std::make_unique<Scope>(harness.executor(requester));
    scope->spawn(request_into(harness.connection(requester), harness.executor(requester), subject,
                              "ping", timeout, &outcome));
    harness.run_for(timeout / 2);
    RC_ASSERT(!outcome.result.has_value());
    harness.run_for(timeout + milliseconds(60));

    RC_ASSERT(outcome.result.has_value());
    RC_ASSERT(!outcome.result->has_value());
    RC_ASSERT(outcome.result->error().code == ErrorCode::timeout);
    RC_ASSERT(outcome.finished - outcome.started >= timeout);
    for (const auto& got : silent_got) {
      RC_ASSERT(std::count_if(got.begin(), got.end(), [&subject](const BusMessage& m) {
                  return m.subject == subject;
                }) == 1);
    }
  });
}

// Messages from one connection reach a subscriber in publish order, whatever the subjects (all
// matching its pattern), however publishers interleave, and with time passing in between.
TYPED_TEST_P(BusContract, PerPublisherOrderIsPreserved) {
  property::check_property(cases<TypeParam>(80), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string pattern = *property::gen_pattern();
    const int publishers = *rc::gen::inRange(1, 4);
    const int subscribers = *rc::gen::inRange(1, 3);
    const int messages = *rc::gen::inRange(1, 61);
    std::vector<int> publisher_connections;
    for (int p = 0; p < publishers; ++p) publisher_connections.push_back(*gen_connection());

    TypeParam harness(seed);
    std::vector<std::vector<BusMessage>> got(subscribers);
    std::vector<SubscriptionPtr> subscriptions;
    for (int s = 0; s < subscribers; ++s) {
      subscriptions.push_back(subscribed(
          harness.connection(*gen_connection()).subscribe(pattern, record_into(&got[s]))));
    }
    // Expected sequences per publishing connection: two generated publishers may share a
    // connection, and then the order promised is that of their merged publishes.
    std::map<int, std::vector<std::string>> sent_by_connection;
    std::vector<int> sequence(publishers, 0);
    int pauses = 3;  // bounds the real time an asio run spends here
    for (int i = 0; i < messages; ++i) {
      const int p = *rc::gen::inRange(0, publishers);
      const int c = publisher_connections[p];
      const std::string data =
          std::to_string(c) + ":" + std::to_string(p) + ":" + std::to_string(sequence[p]++);
      sent_by_connection[c].push_back(data);
      const std::string subject = *property::gen_subject_matching(pattern);
      published(harness.connection(c).publish(subject, data));
      if (pauses > 0 && *rc::gen::inRange(0, 10) == 0) {
        --pauses;
        harness.run_for(microseconds(500) * *rc::gen::inRange(0, 5));
      }
    }
    harness.settle();

    for (const auto& messages_got : got) {
      RC_ASSERT(static_cast<int>(messages_got.size()) == messages);
      std::map<int, std::vector<std::string>> got_by_connection;
      for (const auto& m : messages_got) {
        got_by_connection[std::stoi(m.data.substr(0, m.data.find(':')))].push_back(m.data);
      }
      RC_ASSERT(got_by_connection == sent_by_connection);
    }
  });
}

// After a SubscriptionPtr is destroyed its handler never runs again, even for messages already
// in flight; other subscriptions are unaffected. Also when destroyed from inside its own handler.
TYPED_TEST_P(BusContract, UnsubscribeStopsDelivery) {
  property::check_property(cases<TypeParam>(150), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::string subject = *property::gen_subject();
    const int before = *rc::gen::inRange(0, 11);
    const int in_flight = *rc::gen::inRange(0, 11);
    const int after = *rc::gen::inRange(0, 11);
    const int limit = *rc::gen::inRange(1, 6);
    const int publisher = *gen_connection();
    const std::string victim_pattern = *property::gen_pattern_matching(subject);
    const std::string witness_pattern = *property::gen_pattern_matching(subject);
    const std::string limited_pattern = *property::gen_pattern_matching(subject);

    TypeParam harness(seed);
    std::vector<BusMessage> victim_got;
    std::vector<BusMessage> witness_got;
    auto victim = subscribed(
        harness.connection(*gen_connection()).subscribe(victim_pattern, record_into(&victim_got)));
    auto witness = subscribed(harness.connection(*gen_connection())
                                  .subscribe(witness_pattern, record_into(&witness_got)));
    // Unsubscribes itself from its handler after `limit` messages.
    int limited_count = 0;
    SubscriptionPtr limited;
    limited = subscribed(
        harness.connection(*gen_connection())
            .subscribe(limited_pattern, [&limited, &limited_count, limit](const BusMessage&) {
              ++limited_count;
              if (limited_count == limit) limited.reset();
            }));

    int sent = 0;
    auto publish_n = [&](int n) {
      for (int i = 0; i < n; ++i) {
        published(harness.connection(publisher).publish(subject, std::to_string(sent++)));
      }
    };
    publish_n(before);
    harness.settle();
    RC_ASSERT(static_cast<int>(victim_got.size()) == before);
    publish_n(in_flight);
    victim.reset();
    publish_n(after);
    harness.settle();

    RC_ASSERT(static_cast<int>(victim_got.size()) == before);
    RC_ASSERT(static_cast<int>(witness_got.size()) == sent);
    RC_ASSERT(limited_count == std::min(limit, sent));
    RC_ASSERT((limited == nullptr) == (sent >= limit));
  });
}

// Invalid subjects and patterns are rejected with invalid_argument by publish / subscribe /
// queue_subscribe exactly when the oracle says they are invalid, and a rejected publish sends
// nothing.
TYPED_TEST_P(BusContract, InvalidSubjectsAndPatternsAreRejected) {
  property::check_property(cases<TypeParam>(200), [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const int count = *rc::gen::inRange(1, 11);
    std::vector<std::string> texts;
    for (int i = 0; i < count; ++i) texts.push_back(*property::gen_any_text());
    const int c = *gen_connection();

    TypeParam harness(seed);
    std::vector<BusMessage> everything;
    auto catch_all =
        subscribed(harness.connection(*gen_connection()).subscribe(">", record_into(&everything)));
    std::vector<SubscriptionPtr> subscriptions;
    std::vector<std::string> accepted;
    for (const auto& text : texts) {
      const bool subject_ok = property::oracle_valid_subject(text);
      const bool pattern_ok = property::oracle_valid_pattern(text);
      RC_ASSERT(validate_subject(text).has_value() == subject_ok);
      RC_ASSERT(validate_pattern(text).has_value() == pattern_ok);

      const auto sent = harness.connection(c).publish(text, "x");
      RC_ASSERT(sent.has_value() == subject_ok);
      if (!sent) RC_ASSERT(sent.error().code == ErrorCode::invalid_argument);
      if (sent) accepted.push_back(text);

      auto plain = harness.connection(c).subscribe(text, [](const BusMessage&) {});
      RC_ASSERT(plain.has_value() == pattern_ok);
      if (!plain) RC_ASSERT(plain.error().code == ErrorCode::invalid_argument);
      if (plain) subscriptions.push_back(std::move(*plain));

      auto grouped = harness.connection(c).queue_subscribe(text, "g", [](const BusMessage&) {});
      RC_ASSERT(grouped.has_value() == pattern_ok);
      if (!grouped) RC_ASSERT(grouped.error().code == ErrorCode::invalid_argument);
      if (grouped) subscriptions.push_back(std::move(*grouped));
    }
    harness.settle();

    std::vector<std::string> delivered_subjects;
    for (const auto& m : everything) delivered_subjects.push_back(m.subject);
    RC_ASSERT(delivered_subjects == accepted);
  });
}

// The categories the contract names, as fixed examples, plus an empty queue group name.
TYPED_TEST_P(BusContract, KnownInvalidInputIsRejected) {
  TypeParam harness(1);
  Bus& bus = harness.connection(0);
  const std::vector<std::string> never_valid = {"",   "a..b",  ".a",  "a.",  "a b",  "a\tb",
                                                " a", "a.b\n", "a\r", ">.a", "a.>.b"};
  const std::vector<std::string> wildcard_subjects = {"*", ">", "a.*", "a.>", "*.b"};
  auto no_op = [](const BusMessage&) {};
  for (const auto& text : never_valid) {
    const auto sent = bus.publish(text, "x");
    ASSERT_FALSE(sent.has_value()) << "publish '" << text << "'";
    EXPECT_EQ(sent.error().code, ErrorCode::invalid_argument);
    const auto plain = bus.subscribe(text, no_op);
    ASSERT_FALSE(plain.has_value()) << "subscribe '" << text << "'";
    EXPECT_EQ(plain.error().code, ErrorCode::invalid_argument);
    const auto grouped = bus.queue_subscribe(text, "g", no_op);
    ASSERT_FALSE(grouped.has_value()) << "queue_subscribe '" << text << "'";
    EXPECT_EQ(grouped.error().code, ErrorCode::invalid_argument);
  }
  for (const auto& text : wildcard_subjects) {
    const auto sent = bus.publish(text, "x");
    ASSERT_FALSE(sent.has_value()) << "publish '" << text << "'";
    EXPECT_EQ(sent.error().code, ErrorCode::invalid_argument);
    EXPECT_TRUE(bus.subscribe(text, no_op).has_value()) << "subscribe '" << text << "'";
  }
  const auto unnamed = bus.queue_subscribe("a", "", no_op);
  ASSERT_FALSE(unnamed.has_value());
  EXPECT_EQ(unnamed.error().code, ErrorCode::invalid_argument);
}

REGISTER_TYPED_TEST_SUITE_P(BusContract, SubscriptionReceivesExactlyMatchingSubjects,
                            QueueGroupDeliversEachMessageToExactlyOneMember,
                            EachQueueGroupGetsOneCopy, QueueGroupSpansDifferentPatterns,
                            RequestReturnsAReplyToItsOwnRequest,
                            RequestWithoutSubscribersFailsFastWithNoResponders,
                            NoRespondersStatusGoesOnlyToTheRequester,
                            RequestToSilentSubscriberTimesOut, PerPublisherOrderIsPreserved,
                            UnsubscribeStopsDelivery, InvalidSubjectsAndPatternsAreRejected,
                            KnownInvalidInputIsRejected);

}  // namespace reliant::contract
