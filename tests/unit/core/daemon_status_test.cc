// A daemon's type and status read and written by name: the table, the parse of outside text,
// and JSON (which must carry names, never the enum's numbers).
#include "core/daemon_status.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace reliant {
namespace {

TEST(DaemonStatusNames, EveryValueRoundTripsThroughItsName) {
  for (const auto& entry : kDaemonStatusNames) {
    EXPECT_EQ(value_named(kDaemonStatusNames, to_string(entry.value)), entry.value);
  }
  for (const auto& entry : kDaemonTypeNames) {
    EXPECT_EQ(daemon_type_named(to_string(entry.value)), entry.value);
  }
  EXPECT_EQ(to_string(DaemonStatus::idle), "idle");
  EXPECT_EQ(to_string(DaemonType::cloud), "cloud");
}

TEST(DaemonStatusNames, OutsideTextNamingNoValueIsRefused) {
  EXPECT_EQ(daemon_type_named("Cloud"), std::nullopt);
  EXPECT_EQ(daemon_type_named(""), std::nullopt);
  EXPECT_EQ(value_named(kDaemonStatusNames, "gone"), std::nullopt);
}

TEST(DaemonStatusNames, JsonHoldsTheNameNotTheNumber) {
  const nlohmann::json json = {{"status", DaemonStatus::disconnected}, {"type", DaemonType::cloud}};
  EXPECT_EQ(json.dump(), R"({"status":"disconnected","type":"cloud"})");
}

}  // namespace
}  // namespace reliant
