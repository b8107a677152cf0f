// check_property: rc::check for gtest with a per-property iteration cap, so the suite stays fast.
#pragma once

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace reliant::property {

// Like rc::detail::checkGTest, but runs at most `success_max` cases. Each case of a bus property
// builds a whole harness (and some let real time pass), so rapidcheck's default of 100 cases is
// more than the 30-second budget of the binary allows. RC_PARAMS, when set, wins: that is how a
// failure is reproduced or a property is run longer on purpose.
template <class Testable>
void check_property(int success_max, Testable&& testable) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + std::string(info->name());
  metadata.description = std::string(info->name());

  rc::detail::TestParams params = rc::detail::configuration().testParams;
  if (std::getenv("RC_PARAMS") == nullptr) params.maxSuccess = success_max;

  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable), metadata, params);
  if (result.template is<rc::detail::SuccessResult>()) {
    // Tags and classifications (RC_TAG, RC_CLASSIFY) show how the generated cases spread.
    if (!result.template get<rc::detail::SuccessResult>().distribution.empty()) {
      rc::detail::printResultMessage(result, std::cout);
      std::cout << std::endl;
    }
  } else {
    std::ostringstream message;
    rc::detail::printResultMessage(result, message);
    FAIL() << message.str();
  }
}

}  // namespace reliant::property
