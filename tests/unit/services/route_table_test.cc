// RouteTable: literal segments, captures, a trailing ** and the first match winning.
#include "services/api/route_table.h"

#include <gtest/gtest.h>

namespace reliant::api {
namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  std::size_t at = 1;
  while (at <= path.size()) {
    const std::size_t end = std::min(path.find('/', at), path.size());
    if (end > at) out.emplace_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

TEST(RouteTable, MatchesMethodAndSegmentsAndCapturesNamedOnes) {
  RouteTable<int> table;
  table.add("GET", "/api/v1/chats", 1)
      .add("POST", "/api/v1/chats", 2)
      .add("GET", "/api/v1/chats/{chat}", 3)
      .add("POST", "/api/v1/chats/{chat}/messages", 4);
  RouteParams params;
  const int* found = table.find("GET", split("/api/v1/chats/c-1"), params);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, 3);
  EXPECT_EQ(params["chat"], "c-1");
  found = table.find("POST", split("/api/v1/chats/c-2/messages"), params);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, 4);
  EXPECT_EQ(params["chat"], "c-2");
  EXPECT_EQ(*table.find("POST", split("/api/v1/chats"), params), 2);
  EXPECT_EQ(table.find("DELETE", split("/api/v1/chats"), params), nullptr) << "another method";
  EXPECT_EQ(table.find("GET", split("/api/v1/chats/c-1/plan"), params), nullptr) << "longer";
  EXPECT_EQ(table.find("GET", split("/api/v1"), params), nullptr) << "shorter";
  EXPECT_EQ(table.find("GET", split("/api/v2/chats"), params), nullptr) << "another literal";
}

TEST(RouteTable, ARestRouteTakesZeroOrMoreSegmentsAndTheFirstMatchWins) {
  RouteTable<int> table;
  table.add("*", "/api/v1/projects/{project}/workflows/**", 1).add("*", "/api/v1/projects/**", 2);
  RouteParams params;
  EXPECT_EQ(*table.find("PUT", split("/api/v1/projects/p/workflows"), params), 1);
  EXPECT_EQ(params["project"], "p");
  EXPECT_EQ(*table.find("GET", split("/api/v1/projects/p/workflows/w/runs"), params), 1);
  EXPECT_EQ(*table.find("DELETE", split("/api/v1/projects/p"), params), 2);
  EXPECT_EQ(*table.find("GET", split("/api/v1/projects"), params), 2) << "** takes none too";
  EXPECT_EQ(table.find("GET", split("/api/v1/project"), params), nullptr);
}

TEST(RouteTable, APatternIsParsedIntoItsSegments) {
  const RoutePattern route = route_pattern("GET", "/api/v1/runs/{run}/**");
  EXPECT_EQ(route.method, "GET");
  EXPECT_EQ(route.segments, (std::vector<std::string>{"api", "v1", "runs", "{run}"}));
  EXPECT_TRUE(route.rest);
}

}  // namespace
}  // namespace reliant::api
