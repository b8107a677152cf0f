// The event loop of the simulated world: a binary heap of small keys over a slab of events.
#include "sim/world.h"

#include "base/assert.h"

namespace reliant::sim {
namespace {
constexpr int kSlotBits = 24;  // up to 16M pending events; the rest of an id is the sequence
constexpr std::uint64_t kSlotMask = (1ULL << kSlotBits) - 1;
}  // namespace

World::World(std::uint64_t seed, bool trace_events)
    : seed_(seed), random_(seed), trace_events_(trace_events) {
  nodes_.push_back(Node{"world", 0, false, {}});
}

NodeId World::add_node(std::string name) {
  nodes_.push_back(Node{std::move(name), 0, false, {}});
  return static_cast<NodeId>(nodes_.size() - 1);
}

const std::string& World::node_name(NodeId node) const { return nodes_.at(node).name; }

std::uint64_t World::next_incarnation(NodeId node) {
  RELIANT_ASSERT(node != kWorldNode);
  auto& n = nodes_.at(node);
  for (auto slot : n.deferred) release_slot(slot);
  n.deferred.clear();
  n.paused = false;
  return ++n.incarnation;
}

void World::set_paused(NodeId node, bool paused) {
  RELIANT_ASSERT(node != kWorldNode);
  auto& n = nodes_.at(node);
  if (n.paused == paused) return;
  n.paused = paused;
  if (paused) return;
  // Resume: what waited runs now, in the order it was due.
  auto deferred = std::move(n.deferred);
  n.deferred.clear();
  for (auto slot : deferred) {
    slots_[slot].seq = next_seq_++;
    queue_.push(Key{now_, slots_[slot].seq, slot});
  }
}

std::uint32_t World::take_slot() {
  if (!free_slots_.empty()) {
    const auto slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  RELIANT_ASSERT_MSG(slots_.size() < kSlotMask, "too many pending events");
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void World::release_slot(std::uint32_t slot) {
  slots_[slot].seq = 0;
  slots_[slot].id_seq = 0;
  slots_[slot].fn = nullptr;
  free_slots_.push_back(slot);
}

EventId World::schedule(Instant at, NodeId node, std::uint64_t incarnation, const char* kind,
                        std::uint64_t digest, std::function<void()> fn) {
  RELIANT_ASSERT(fn);
  if (at < now_) at = now_;
  const auto slot = take_slot();
  const std::uint64_t seq = next_seq_++;
  Slot& s = slots_[slot];
  s.seq = seq;
  s.id_seq = seq;
  s.node = node;
  s.incarnation = incarnation;
  s.kind = kind;
  s.digest = digest;
  s.fn = std::move(fn);
  queue_.push(Key{at, seq, slot});
  return (seq << kSlotBits) | slot;
}

bool World::cancel(EventId id) {
  const auto slot = static_cast<std::uint32_t>(id & kSlotMask);
  const std::uint64_t seq = id >> kSlotBits;
  if (slot >= slots_.size() || slots_[slot].id_seq != seq || seq == 0) return false;
  // The heap key stays behind and is skipped when popped (its seq no longer matches). An event
  // held by a pause leaves its node's deferred list; one requeued by the resume keeps its id,
  // since after a resume the first event run may cancel another the pause held (a model's
  // answer ends a call whose keep-alive timer was due meanwhile: that timer must not fire).
  if (slots_[slot].seq == UINT64_MAX) std::erase(nodes_[slots_[slot].node].deferred, slot);
  release_slot(slot);
  return true;
}

bool World::step() {
  while (!queue_.empty()) {
    const Key key = queue_.top();
    queue_.pop();
    Slot& s = slots_[key.slot];
    if (s.seq != key.seq) continue;  // cancelled (slot freed or reused)
    RELIANT_ASSERT(key.at >= now_);
    now_ = key.at;
    Node& n = nodes_[s.node];
    if (s.incarnation != n.incarnation) {  // addressed to a process that has since crashed
      release_slot(key.slot);
      continue;
    }
    if (n.paused) {
      s.seq = UINT64_MAX;  // held: not in the heap; cancel() still finds it by its id_seq
      n.deferred.push_back(key.slot);
      continue;
    }
    run_slot(key.slot);
    return true;
  }
  return false;
}

void World::run_slot(std::uint32_t slot) {
  Slot& s = slots_[slot];
  auto fn = std::move(s.fn);
  if (trace_events_) trace_.record(now_, s.node, s.kind, s.digest);
  release_slot(slot);
  ++events_run_;
  fn();
}

void World::run_until(Instant deadline) {
  while (!queue_.empty()) {
    // Skip stale keys so the peek below sees a live event.
    const Key key = queue_.top();
    if (slots_[key.slot].seq != key.seq) {
      queue_.pop();
      continue;
    }
    if (key.at > deadline) break;
    step();
  }
  if (deadline > now_) now_ = deadline;
}

}  // namespace reliant::sim
