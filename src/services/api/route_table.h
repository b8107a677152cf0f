// A REST surface as a table: each route is a method, a path pattern and a handler, and serving a
// request is a lookup. A pattern's segments are literals, `{name}` (one segment, captured) or,
// last,
// `**` (zero or more segments: the rest, for a sub-router that matches it itself). The first route
// that matches wins; method "*" matches any method.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"

namespace reliant::api {

// The segments `{name}` captured, in the pattern's order.
class RouteParams {
 public:
  // The segment captured as `name`; the route's pattern must name it.
  const std::string& operator[](std::string_view name) const;
  void add(std::string name, std::string value) {
    captured_.emplace_back(std::move(name), std::move(value));
  }
  void clear() { captured_.clear(); }
  // Every capture, (name, segment), in the pattern's order.
  const std::vector<std::pair<std::string, std::string>>& all() const { return captured_; }

 private:
  std::vector<std::pair<std::string, std::string>> captured_;
};

struct RoutePattern {
  std::string method;  // "GET", …, or "*"
  std::vector<std::string> segments;
  bool rest = false;  // ends in `**`
};

// Parses "/api/v1/chats/{chat}/messages"; a malformed pattern is a programming error.
RoutePattern route_pattern(std::string_view method, std::string_view pattern);

// Whether `method` and the path's `segments` match `route`; its captures go to `params`.
bool route_matches(const RoutePattern& route, std::string_view method,
                   const std::vector<std::string>& segments, RouteParams& params);

template <class Handler>
class RouteTable {
 public:
  RouteTable& add(std::string_view method, std::string_view pattern, Handler handler) {
    routes_.push_back({route_pattern(method, pattern), std::move(handler)});
    return *this;
  }
  // The first matching route's handler and its captures; null when none matches.
  const Handler* find(std::string_view method, const std::vector<std::string>& segments,
                      RouteParams& params) const {
    for (const auto& [pattern, handler] : routes_) {
      params.clear();
      if (route_matches(pattern, method, segments, params)) return &handler;
    }
    params.clear();
    return nullptr;
  }
  std::size_t size() const { return routes_.size(); }

 private:
  std::vector<std::pair<RoutePattern, Handler>> routes_;
};

}  // namespace reliant::api
