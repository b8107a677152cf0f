// ResultCache: the daemon's memory of finished work by id — tool requests by request_id, commands
// by command_id — so that a redelivered one gets the first answer instead of running twice
// (docs/architecture.md §6). Bounded: the oldest entry goes first once `capacity` is reached.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace reliant::daemon {

template <class Answer>
class ResultCache {
 public:
  explicit ResultCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  const Answer* find(const std::string& id) const {
    const auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Keeps the first answer for an id; a later one is ignored (false). (By value: an answer given
  // up is moved in, not copied.) One lookup a call, and each id held once: the order of arrival
  // points at the map's keys, which stay where they are on a rehash.
  bool put(std::string id, Answer answer) {
    auto [at, added] = entries_.try_emplace(std::move(id), std::move(answer));
    if (!added) return false;
    order_.push_back(&at->first);
    if (order_.size() > capacity_) {
      entries_.erase(entries_.find(*order_.front()));
      order_.pop_front();
    }
    return true;
  }

  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t capacity_;
  std::deque<const std::string*> order_;  // insertion order, for eviction
  std::unordered_map<std::string, Answer> entries_;
};

}  // namespace reliant::daemon
