// Fan-out and queue-group selection over a linear table: subscriptions per broker are few
// (tens to hundreds), and a scan keeps the order deterministic without extra bookkeeping.
#include "runtime/subscription_table.h"

#include <algorithm>

#include "base/assert.h"
#include "runtime/subject.h"

namespace reliant {

SubscriptionTable::Id SubscriptionTable::add(std::string pattern, std::string group) {
  RELIANT_ASSERT(validate_pattern(pattern).has_value());
  const Id id = next_id_++;
  entries_.emplace(id, Entry{std::move(pattern), std::move(group)});
  return id;
}

void SubscriptionTable::remove(Id id) { entries_.erase(id); }

std::vector<SubscriptionTable::Id> SubscriptionTable::route(std::string_view subject,
                                                            const Picker& pick) const {
  std::vector<Id> out;
  // Queue groups are keyed by (pattern, group) as in NATS: members must subscribe to the same
  // pattern to share the work.
  std::map<std::pair<std::string_view, std::string_view>, std::vector<Id>> groups;
  for (const auto& [id, entry] : entries_) {
    if (!subject_matches(entry.pattern, subject)) continue;
    if (entry.group.empty()) {
      out.push_back(id);
    } else {
      groups[{entry.pattern, entry.group}].push_back(id);
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

bool SubscriptionTable::any_match(std::string_view subject) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return subject_matches(e.second.pattern, subject); });
}

}  // namespace reliant
