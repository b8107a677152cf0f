// The one bearer-token parser: the scheme in any case (RFC 9110 §11.1), one or more spaces.
#include <gtest/gtest.h>

#include "core/bearer_token.h"

namespace reliant {
namespace {

TEST(BearerToken, TheSchemeIsCaseInsensitive) {
  EXPECT_EQ(bearer_token("Bearer rlnt_pat_x"), "rlnt_pat_x");
  EXPECT_EQ(bearer_token("bearer rlnt_pat_x"), "rlnt_pat_x");
  EXPECT_EQ(bearer_token("BEARER rlnt_pat_x"), "rlnt_pat_x");
  EXPECT_EQ(bearer_token("bEaReR a.b.c"), "a.b.c");
}

TEST(BearerToken, SpacesBeforeTheTokenAndOtherSchemes) {
  EXPECT_EQ(bearer_token("Bearer   tok"), "tok");
  EXPECT_EQ(bearer_token("Bearer"), "");
  EXPECT_EQ(bearer_token("Bearer "), "");
  EXPECT_EQ(bearer_token("Bearer    "), "");
  EXPECT_EQ(bearer_token("Bearertok"), "");
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(bearer_token(""), "");
}

TEST(BearerToken, FromMetadata) {
  using Metadata = std::map<std::string, std::string>;
  EXPECT_EQ(bearer_token(Metadata{{"authorization", "Bearer tok"}, {"x", "y"}}), "tok");
  EXPECT_EQ(bearer_token(Metadata{{"authorization", "Basic dXNlcjpwYXNz"}}), "");
  EXPECT_EQ(bearer_token(Metadata{{"x-authorization", "Bearer tok"}}), "");
  EXPECT_EQ(bearer_token(Metadata{}), "");
}

}  // namespace
}  // namespace reliant
