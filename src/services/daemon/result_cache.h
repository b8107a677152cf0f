// ResultCache: the daemon's memory of finished tool requests, by request_id, so a redelivered
// request returns the first result instead of running twice (docs/architecture.md §6). Bounded: the
// oldest entry goes first once `capacity` is reached.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant::daemon {

class ResultCache {
 public:
  explicit ResultCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  const v1::ToolResponse* find(const std::string& request_id) const {
    const auto it = entries_.find(request_id);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Keeps the first response for an id; a later one is ignored.
  void put(const v1::ToolResponse& response) {
    if (entries_.count(response.request_id()) != 0) return;
    if (order_.size() == capacity_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(response.request_id());
    entries_.emplace(response.request_id(), response);
  }

  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t capacity_;
  std::deque<std::string> order_;  // insertion order, for eviction
  std::unordered_map<std::string, v1::ToolResponse> entries_;
};

}  // namespace reliant::daemon
