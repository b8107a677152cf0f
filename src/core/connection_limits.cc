// The admission and eviction rules of connection_limits.h.
#include "core/connection_limits.h"

#include "base/assert.h"

namespace reliant {
namespace {

// Silent connections asked whether they spoke after all, per victim chosen, at most.
constexpr int kSpokeChecksMax = 8;

}  // namespace

ConnectionLimits::ConnectionLimits(ConnectionLimitsConfig config) : config_(config) {
  RELIANT_ASSERT(config_.connections_max > 0);
  RELIANT_ASSERT(config_.unauthenticated_max > 0);
}

bool ConnectionLimits::is_authenticated(Id id) const {
  const auto it = entries_.find(id);
  return it != entries_.end() && it->second.authenticated;
}

std::size_t ConnectionLimits::open_from(const std::string& address) const {
  const auto it = addresses_.find(address);
  return it == addresses_.end() ? 0 : it->second.open;
}

void ConnectionLimits::set_idle_unauthenticated_count(const std::string& address,
                                                      std::size_t before, std::size_t after) {
  if (before > 0) by_idle_unauthenticated_.erase({before, address});
  if (after > 0) by_idle_unauthenticated_.insert({after, address});
}

void ConnectionLimits::index(Id id, const Entry& entry) {
  if (entry.busy) return;
  PerAddress& per = addresses_.at(entry.address);
  if (entry.authenticated) {
    per.idle_authenticated.insert(id);
    idle_authenticated_.insert(id);
  } else {
    const std::size_t before = per.idle_unauthenticated.size();
    per.idle_unauthenticated.insert(id);
    if (!entry.spoken) per.silent.insert(id);
    set_idle_unauthenticated_count(entry.address, before, per.idle_unauthenticated.size());
  }
}

void ConnectionLimits::unindex(Id id, const Entry& entry) {
  if (entry.busy) return;
  PerAddress& per = addresses_.at(entry.address);
  if (entry.authenticated) {
    per.idle_authenticated.erase(id);
    idle_authenticated_.erase(id);
  } else {
    const std::size_t before = per.idle_unauthenticated.size();
    per.idle_unauthenticated.erase(id);
    per.silent.erase(id);
    set_idle_unauthenticated_count(entry.address, before, per.idle_unauthenticated.size());
  }
}

ConnectionLimits::Id ConnectionLimits::victim_of(const std::string& address,
                                                 const SpokeCheck& spoke) {
  PerAddress& per = addresses_.at(address);
  if (per.idle_unauthenticated.empty()) return 0;
  // Silent while half the pool was admitted after it (ids count admissions): an idle client,
  // unless its bytes are waiting to be read. A younger one may not have had the time to speak:
  // then the oldest goes, as for the others.
  const Id patience = static_cast<Id>(config_.unauthenticated_max / 2);
  for (int checked = 0; checked < kSpokeChecksMax && !per.silent.empty(); ++checked) {
    const Id oldest = *per.silent.begin();
    if (oldest + patience >= next_id_) break;
    if (!spoke || !spoke(oldest)) return oldest;
    mark_spoken(oldest);  // leaves `silent`
  }
  return *per.idle_unauthenticated.begin();
}

ConnectionLimits::Id ConnectionLimits::unauthenticated_victim(const SpokeCheck& spoke) {
  if (by_idle_unauthenticated_.empty()) return 0;
  const std::string address = by_idle_unauthenticated_.rbegin()->second;  // a copy: see below
  // victim_of() may mark connections spoken, which re-inserts the address's entry here.
  return victim_of(address, spoke);
}

ConnectionLimits::Admission ConnectionLimits::admit(const std::string& address,
                                                    const SpokeCheck& spoke) {
  // Which connections to close, decided before any is closed: a refusal closes nothing. An
  // unauthenticated victim frees a place under every cap, an authenticated one under all but
  // the pool's, so at most one victim per cap, and never the same one twice.
  std::vector<Id> victims;
  bool room_for_total = entries_.size() < config_.connections_max;
  bool room_in_pool = unauthenticated_ < config_.unauthenticated_max;
  const auto take = [&](Id victim) {
    victims.push_back(victim);
    room_for_total = true;
    if (!entries_.at(victim).authenticated) room_in_pool = true;
  };
  const auto here = addresses_.find(address);
  if (config_.per_address_max > 0 && here != addresses_.end() &&
      here->second.open >= config_.per_address_max) {
    if (!here->second.idle_unauthenticated.empty()) {
      take(victim_of(address, spoke));
    } else if (!here->second.idle_authenticated.empty()) {
      take(*here->second.idle_authenticated.begin());
    } else {
      return {};
    }
  }
  if (!room_for_total) {
    if (const Id victim = unauthenticated_victim(spoke); victim != 0) {
      take(victim);
    } else if (!idle_authenticated_.empty()) {
      take(*idle_authenticated_.begin());
    } else {
      return {};
    }
  }
  if (!room_in_pool) {
    // Every earlier victim was authenticated, so this one is another connection.
    const Id victim = unauthenticated_victim(spoke);
    if (victim == 0) return {};
    take(victim);
  }
  RELIANT_ASSERT(victims.size() <= 2);
  for (const Id victim : victims) remove(victim);

  const Id id = next_id_++;
  Entry entry{address, false, false};
  ++addresses_[address].open;
  ++unauthenticated_;
  index(id, entry);
  entries_.emplace(id, std::move(entry));
  RELIANT_ASSERT(entries_.size() <= config_.connections_max);
  RELIANT_ASSERT(unauthenticated_ <= config_.unauthenticated_max);
  return {id, std::move(victims)};
}

void ConnectionLimits::authenticate(Id id) {
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.authenticated) return;
  unindex(id, it->second);
  it->second.authenticated = true;
  RELIANT_ASSERT(unauthenticated_ > 0);
  --unauthenticated_;
  index(id, it->second);
}

void ConnectionLimits::mark_spoken(Id id) {
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.spoken) return;
  unindex(id, it->second);
  it->second.spoken = true;
  index(id, it->second);
}

void ConnectionLimits::set_busy(Id id, bool busy) {
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.busy == busy) return;
  unindex(id, it->second);
  it->second.busy = busy;
  index(id, it->second);
}

void ConnectionLimits::forget(Id id) {
  if (entries_.count(id) > 0) remove(id);
}

void ConnectionLimits::remove(Id id) {
  const auto it = entries_.find(id);
  RELIANT_ASSERT(it != entries_.end());
  unindex(id, it->second);
  if (!it->second.authenticated) {
    RELIANT_ASSERT(unauthenticated_ > 0);
    --unauthenticated_;
  }
  const auto per = addresses_.find(it->second.address);
  RELIANT_ASSERT(per != addresses_.end() && per->second.open > 0);
  if (--per->second.open == 0) addresses_.erase(per);
  entries_.erase(it);
}

}  // namespace reliant
