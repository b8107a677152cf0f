// Fan-out and queue-group selection over a linear table: subscriptions per broker are few
// (tens to hundreds), and a scan keeps the order deterministic without extra bookkeeping.
#include "runtime/subscription_table.h"

#include <algorithm>
#include <map>

#include "base/assert.h"
#include "runtime/subject.h"

namespace reliant {

SubscriptionTable::Id SubscriptionTable::add(std::string pattern, std::string group,
                                             std::uint64_t connection) {
  RELIANT_ASSERT(validate_pattern(pattern).has_value());
  const Id id = next_id_++;
  entries_.emplace(id, Entry{std::move(pattern), std::move(group), connection});
  return id;
}

void SubscriptionTable::remove(Id id) { entries_.erase(id); }

std::vector<SubscriptionTable::Id> SubscriptionTable::route(std::string_view subject,
                                                            const Picker& pick) const {
  std::vector<Id> out;
  // Queue groups are keyed by name only, as in nats-server: "g" on `q.*` and "g" on `q.x` share
  // each message on q.x.
  std::map<std::string_view, std::vector<Id>> groups;
  for (const auto& [id, entry] : entries_) {
    if (!subject_matches(entry.pattern, subject)) continue;
    if (entry.group.empty()) {
      out.push_back(id);
    } else {
      groups[entry.group].push_back(id);
    }
  }
  for (const auto& [key, members] : groups) {
    const std::size_t chosen = pick(members.size());
    RELIANT_ASSERT(chosen < members.size());
    out.push_back(members[chosen]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<SubscriptionTable::Id> SubscriptionTable::route_to_connection(
    std::string_view subject, std::uint64_t connection) const {
  std::vector<Id> out;
  for (const auto& [id, entry] : entries_) {
    if (entry.connection == connection && subject_matches(entry.pattern, subject))
      out.push_back(id);
  }
  return out;
}

}  // namespace reliant
