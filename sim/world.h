// World: the simulator's single-threaded scheduler — every event of every simulated process in
// one queue ordered by (virtual time, sequence number), so a seed fixes the whole run.
//
// Events belong to a node incarnation: when a process crashes its incarnation changes and its
// pending events are dropped; while it is paused they wait and run, in order, when it resumes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "base/time.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "sim/coverage.h"
#include "sim/trace.h"

namespace reliant::sim {

using NodeId = std::uint32_t;  // 0 is the world itself (fault plan, checkers)

// What the simulated processes logged (SimLog): the last lines, kept for a failing run's
// report, and an optional echo of every line.
struct LogBook {
  std::size_t keep_last = 200;
  LogLevel level = LogLevel::info;
  std::deque<std::string> recent;
  std::function<void(const std::string&)> echo;  // set: called with every line

  void add(std::string line) {
    if (echo) echo(line);
    recent.push_back(std::move(line));
    while (recent.size() > keep_last) recent.pop_front();
  }
};
using EventId = std::uint64_t;  // 0 is never valid
constexpr NodeId kWorldNode = 0;

// The first instant of every simulation: a fixed date, so logs read like real ones.
constexpr Instant kSimEpoch = Instant(seconds(1'767'225'600));  // 2026-01-01T00:00:00Z

class World {
 public:
  explicit World(std::uint64_t seed, bool trace_events = true);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  Instant now() const { return now_; }
  Random& random() { return random_; }
  Trace& trace() { return trace_; }
  LogBook& log_book() { return log_book_; }
  // What the run exercised: faults fired, BUGGIFY sites, `sometimes` markers (sim/coverage.h).
  Coverage& coverage() { return coverage_; }
  std::uint64_t seed() const { return seed_; }

  // Node bookkeeping for incarnation tagging and pauses.
  NodeId add_node(std::string name);
  const std::string& node_name(NodeId node) const;
  std::uint64_t incarnation(NodeId node) const { return nodes_.at(node).incarnation; }
  // Starts a new incarnation: events of earlier ones will be dropped.
  std::uint64_t next_incarnation(NodeId node);
  void set_paused(NodeId node, bool paused);
  bool paused(NodeId node) const { return nodes_.at(node).paused; }
  std::size_t node_count() const { return nodes_.size() - 1; }

  // Runs `fn` at `at` (never before now) as `kind`, unless `node`'s incarnation has changed
  // by then. `digest` summarises the event's payload for the trace.
  EventId schedule(Instant at, NodeId node, std::uint64_t incarnation, const char* kind,
                   std::uint64_t digest, std::function<void()> fn);
  // Schedules for the node's current incarnation.
  EventId schedule(Instant at, NodeId node, const char* kind, std::function<void()> fn) {
    return schedule(at, node, incarnation(node), kind, 0, std::move(fn));
  }
  // Returns false when the event already ran, was cancelled, or never existed.
  bool cancel(EventId id);

  // Runs the next event. Returns false when the queue is empty.
  bool step();
  // Runs every event due at or before `deadline`, then sets the clock to `deadline`.
  void run_until(Instant deadline);
  std::uint64_t events_run() const { return events_run_; }
  std::size_t pending() const { return queue_.size(); }

 private:
  struct Slot {
    std::uint64_t seq = 0;     // 0: free; the heap key's (UINT64_MAX while held by a pause)
    std::uint64_t id_seq = 0;  // the EventId's: kept while held and when requeued
    NodeId node = 0;
    std::uint64_t incarnation = 0;
    const char* kind = nullptr;
    std::uint64_t digest = 0;
    std::function<void()> fn;
  };
  struct Key {
    Instant at;
    std::uint64_t seq;
    std::uint32_t slot;
    bool operator>(const Key& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Node {
    std::string name;
    std::uint64_t incarnation = 0;
    bool paused = false;
    std::vector<std::uint32_t> deferred;  // slots held while paused, in arrival order
  };

  std::uint32_t take_slot();
  void release_slot(std::uint32_t slot);
  void run_slot(std::uint32_t slot);

  std::uint64_t seed_;
  Random random_;
  Trace trace_;
  LogBook log_book_;
  Coverage coverage_;
  bool trace_events_;
  Instant now_ = kSimEpoch;
  std::uint64_t next_seq_ = 1;
  std::uint64_t events_run_ = 0;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> queue_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Node> nodes_;
};

}  // namespace reliant::sim
