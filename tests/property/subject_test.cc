// Properties of subject validation and wildcard matching (runtime/subject.h) against the oracle.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "property/property_check.h"
#include "property/subject_oracle.h"
#include "runtime/subject.h"

namespace reliant::property {
namespace {

TEST(SubjectProperty, MatchesAgreesWithOracle) {
  check_property(500, [] {
    const std::string pattern = *gen_pattern();
    const std::string subject = *gen_subject_near(pattern);
    RC_TAG(oracle_matches(pattern, subject));  // shows the match / no-match balance
    RC_ASSERT(subject_matches(pattern, subject) == oracle_matches(pattern, subject));
  });
}

TEST(SubjectProperty, GeneratedPatternsMatchTheirInstances) {
  check_property(200, [] {
    const std::string pattern = *gen_pattern();
    const std::string subject = *gen_subject_matching(pattern);
    RC_ASSERT(subject_matches(pattern, subject));
    const std::string generalised = *gen_pattern_matching(subject);
    RC_ASSERT(subject_matches(generalised, subject));
  });
}

TEST(SubjectProperty, ALiteralPatternMatchesOnlyItself) {
  check_property(200, [] {
    const std::string a = *gen_subject();
    const std::string b = *gen_subject();
    RC_ASSERT(subject_matches(a, b) == (a == b));
  });
}

TEST(SubjectProperty, ValidationAgreesWithOracle) {
  check_property(500, [] {
    const std::string text = *gen_any_text();
    const auto as_subject = validate_subject(text);
    const auto as_pattern = validate_pattern(text);
    RC_ASSERT(as_subject.has_value() == oracle_valid_subject(text));
    RC_ASSERT(as_pattern.has_value() == oracle_valid_pattern(text));
    if (!as_subject) RC_ASSERT(as_subject.error().code == ErrorCode::invalid_argument);
    if (!as_pattern) RC_ASSERT(as_pattern.error().code == ErrorCode::invalid_argument);
  });
}

TEST(SubjectProperty, KnownInvalidTextIsRejected) {
  // Every category named by the contract, each as subject and as pattern.
  const std::vector<std::string> never_valid = {
      "", "a..b", ".a", "a.", ".", "a b", "a\tb", " a", "a.b\n", "a\r", ">.a", "a.>.b", "*.>.*"};
  for (const auto& text : never_valid) {
    const auto s = validate_subject(text);
    const auto p = validate_pattern(text);
    ASSERT_FALSE(s.has_value()) << "subject '" << text << "'";
    ASSERT_FALSE(p.has_value()) << "pattern '" << text << "'";
    EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(p.error().code, ErrorCode::invalid_argument);
  }
  const std::vector<std::string> patterns_only = {"*", ">", "a.*", "a.>", "*.b", "a.*.>"};
  for (const auto& text : patterns_only) {
    const auto s = validate_subject(text);
    ASSERT_FALSE(s.has_value()) << "subject '" << text << "'";
    EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
    EXPECT_TRUE(validate_pattern(text).has_value()) << "pattern '" << text << "'";
  }
}

}  // namespace
}  // namespace reliant::property
