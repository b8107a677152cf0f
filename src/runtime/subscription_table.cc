// Fan-out and queue-group selection over a linear table: subscriptions per broker are few
// (tens to hundreds), and a scan keeps the order deterministic without extra bookkeeping.
#include "runtime/subscription_table.h"

#include <algorithm>
#include <map>

#include "base/assert.h"
#include "runtime/subject.h"

namespace reliant {
namespace {

bool has_wildcard_token(std::string_view pattern) {
  for (std::size_t start = 0; start <= pattern.size();) {
    const std::size_t dot = std::min(pattern.find('.', start), pattern.size());
    const std::string_view token = pattern.substr(start, dot - start);
    if (token == "*" || token == ">") return true;
    start = dot + 1;
  }
  return false;
}

}  // namespace

SubscriptionTable::Id SubscriptionTable::add(std::string pattern, std::string group,
                                             std::uint64_t connection) {
  RELIANT_ASSERT(validate_pattern(pattern).has_value());
  const Id id = next_id_++;
  const bool literal = !has_wildcard_token(pattern);
  entries_.emplace(id, Entry{std::move(pattern), std::move(group), connection, literal});
  return id;
}

// Tokens split at every dot and joined again are the same text, so a literal pattern matches a
// subject exactly when they are equal: one comparison instead of a walk token by token, on every
// subscription of every message (most are literal: inboxes, one daemon's subject).
bool SubscriptionTable::matches(const Entry& entry, std::string_view subject) {
  return entry.literal ? entry.pattern == subject : subject_matches(entry.pattern, subject);
}

void SubscriptionTable::remove(Id id) { entries_.erase(id); }

std::vector<SubscriptionTable::Id> SubscriptionTable::route(std::string_view subject,
                                                            const Picker& pick) const {
  std::vector<Id> out;
  // Queue groups are keyed by name only, as in nats-server: "g" on `q.*` and "g" on `q.x` share
  // each message on q.x.
  std::map<std::string_view, std::vector<Id>> groups;
  for (const auto& [id, entry] : entries_) {
    if (!matches(entry, subject)) continue;
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
    if (entry.connection == connection && matches(entry, subject)) out.push_back(id);
  }
  return out;
}

}  // namespace reliant
