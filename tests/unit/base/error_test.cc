// Error messages and Result helpers.
#include <gtest/gtest.h>

#include "base/result.h"
#include "base/time.h"

namespace reliant {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return fail(ErrorCode::invalid_argument, std::to_string(x) + " is odd");
  return x / 2;
}

TEST(Result, CarriesValueOrError) {
  ASSERT_TRUE(half(4).has_value());
  EXPECT_EQ(*half(4), 2);
  const auto odd = half(3);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(odd.error().describe(), "invalid_argument: 3 is odd");
}

// A database's own words and internal failures' details are for logs; the rest is for clients.
TEST(Error, ClientsSeeOnlyMessagesMeantForThem) {
  EXPECT_EQ(client_message(Error{ErrorCode::not_found, "no chat c1"}), "no chat c1");
  const Error driver{ErrorCode::already_exists,
                     "UNIQUE constraint failed: users.email: INSERT INTO users …", true};
  EXPECT_EQ(client_message(driver), "it already exists");
  EXPECT_NE(driver.describe().find("users.email"), std::string::npos) << "the log keeps it";
  EXPECT_EQ(client_message(Error{ErrorCode::internal, "corrupt history at seq 7"}).find("seq 7"),
            std::string::npos);
  EXPECT_EQ(client_message(Error{ErrorCode::outcome_unknown, "connection lost during commit: EOF"})
                .find("EOF"),
            std::string::npos);
  EXPECT_FALSE(client_message(Error{ErrorCode::unavailable, "", true}).empty());
}

TEST(Time, FormatsDurationsCompactly) {
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(minutes(2)), "2.0min");
  EXPECT_EQ(format_duration(Duration(12)), "12ns");
}

}  // namespace
}  // namespace reliant
