// SubscriptionTable: who receives a subject — the routing core shared by the in-process and
// simulated brokers, so both implement NATS fan-out and queue groups the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace reliant {

class SubscriptionTable {
 public:
  using Id = std::uint64_t;
  // Picks one index in [0, members) for a queue group delivery.
  using Picker = std::function<std::size_t(std::size_t members)>;

  // `pattern` must be valid (validate_pattern); `group` empty for a plain subscription;
  // `connection` identifies the subscribing connection.
  Id add(std::string pattern, std::string group, std::uint64_t connection);
  void remove(Id id);
  bool contains(Id id) const { return entries_.count(id) != 0; }
  std::size_t size() const { return entries_.size(); }

  // Receivers of one message on `subject`: every matching plain subscription, plus one member
  // (chosen by `pick`) of each queue group with a matching member — a group is its name, so
  // members with different patterns share the work. Ascending by id, so deterministic.
  std::vector<Id> route(std::string_view subject, const Picker& pick) const;
  // The subscriptions of one connection matching `subject`: where a broker sends a request's
  // no-responders status, which only the requesting connection may see.
  std::vector<Id> route_to_connection(std::string_view subject, std::uint64_t connection) const;

 private:
  struct Entry {
    std::string pattern;
    std::string group;
    std::uint64_t connection;
    bool literal;  // no wildcard token: matches exactly the subject spelled the same
  };
  static bool matches(const Entry& entry, std::string_view subject);
  std::map<Id, Entry> entries_;
  Id next_id_ = 1;
};

}  // namespace reliant
