// Route patterns and their matching (route_table.h).
#include "services/api/route_table.h"

namespace reliant::api {

const std::string& RouteParams::operator[](std::string_view name) const {
  for (const auto& [key, value] : captured_) {
    if (key == name) return value;
  }
  RELIANT_ASSERT_MSG(false, "a route handler asked for a segment its pattern does not capture");
  static const std::string kNone;
  return kNone;
}

RoutePattern route_pattern(std::string_view method, std::string_view pattern) {
  RELIANT_ASSERT_MSG(pattern.starts_with('/'), "a route pattern starts with /");
  RoutePattern route;
  route.method = std::string(method);
  std::size_t at = 1;
  while (at <= pattern.size()) {
    const std::size_t end = std::min(pattern.find('/', at), pattern.size());
    const std::string_view segment = pattern.substr(at, end - at);
    RELIANT_ASSERT_MSG(!segment.empty(), "a route pattern has no empty segment");
    RELIANT_ASSERT_MSG(!route.rest, "** ends a route pattern");
    if (segment == "**") {
      route.rest = true;
    } else {
      RELIANT_ASSERT_MSG(!segment.starts_with('{') || segment.ends_with('}'),
                         "a capture is {name}");
      route.segments.emplace_back(segment);
    }
    at = end + 1;
  }
  return route;
}

bool route_matches(const RoutePattern& route, std::string_view method,
                   const std::vector<std::string>& segments, RouteParams& params) {
  if (route.method != "*" && route.method != method) return false;
  if (route.rest ? segments.size() < route.segments.size()
                 : segments.size() != route.segments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (want.starts_with('{')) {
      params.add(want.substr(1, want.size() - 2), segments[i]);
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace reliant::api
