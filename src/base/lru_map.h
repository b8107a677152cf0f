// LruMap: a map from strings bounded in entries, the least recently used entry dropped first —
// the shape of every cache here. An entry taken out is no longer in the map: whoever took it
// owns it until it puts it back, so two users never share (and change) one.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/assert.h"

namespace reliant {

template <class Value>
class LruMap {
 public:
  explicit LruMap(std::size_t capacity) : capacity_(capacity) {}

  // Removes and returns the entry under `key`, if any.
  std::optional<Value> take(const std::string& key) {
    auto found = by_key_.find(key);
    if (found == by_key_.end()) return std::nullopt;
    std::optional<Value> value(std::move(found->second->second));
    entries_.erase(found->second);
    by_key_.erase(found);
    return value;
  }
  // The entry under `key`, or null; looking does not count as a use.
  const Value* peek(const std::string& key) const {
    auto found = by_key_.find(key);
    return found == by_key_.end() ? nullptr : &found->second->second;
  }
  // Keeps `value` under `key` as the most recently used entry (replacing what was there), and
  // drops the least recently used beyond the capacity. A capacity of 0 keeps nothing.
  void put(const std::string& key, Value value) {
    erase(key);
    if (capacity_ == 0) return;
    entries_.emplace_front(key, std::move(value));
    by_key_[key] = entries_.begin();
    if (by_key_.size() > capacity_) {
      by_key_.erase(entries_.back().first);
      entries_.pop_back();
    }
    RELIANT_ASSERT(by_key_.size() == entries_.size() && by_key_.size() <= capacity_);
  }
  void erase(const std::string& key) {
    auto found = by_key_.find(key);
    if (found == by_key_.end()) return;
    entries_.erase(found->second);
    by_key_.erase(found);
  }
  std::size_t size() const { return by_key_.size(); }

 private:
  using Entries = std::list<std::pair<std::string, Value>>;  // most recently used first
  std::size_t capacity_;
  Entries entries_;
  std::unordered_map<std::string, typename Entries::iterator> by_key_;
};

}  // namespace reliant
