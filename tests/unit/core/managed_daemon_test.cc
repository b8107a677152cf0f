// Managed daemons' spec (seed 004's builder fields) and the control plane's decision for one
// daemon in one round.
#include "core/managed_daemon.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

using Json = nlohmann::json;

std::string refusal(const Json& spec) {
  auto parsed = parse_managed_daemon_spec(spec);
  EXPECT_FALSE(parsed.has_value());
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument);
  return parsed.error().message;
}

TEST(ManagedDaemonSpec, ReadsTheBuilderFieldsAndWritesThemBack) {
  const Json json = {{"name", "cloud-box"},
                     {"platform", "kubernetes"},
                     {"code", {{"image", "ghcr.io/acme/daemon:1"}}},
                     {"env", {{"LOG_LEVEL", "info"}}},
                     {"labels", {{"gpu", "a100"}}},
                     {"links", {"proj-1"}},
                     {"permissions", "read-only"},
                     {"commands_enabled", true}};
  auto spec = parse_managed_daemon_spec(json);
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec->platform, DaemonPlatform::kubernetes);
  EXPECT_EQ(spec->code.image, "ghcr.io/acme/daemon:1");
  EXPECT_EQ(spec->permissions, PermissionProfile::read_only);
  EXPECT_TRUE(spec->commands_enabled);
  EXPECT_FALSE(spec->always_on);
  auto again = parse_managed_daemon_spec(to_json(*spec));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *spec);
}

TEST(ManagedDaemonSpec, RefusesWhatItCannotRunNamingTheField) {
  const Json base = {{"name", "box"}, {"permissions", "execution"}};
  auto with = [&](const char* key, Json value) {
    Json out = base;
    out[key] = std::move(value);
    return out;
  };
  EXPECT_EQ(refusal(with("platform", "mars")),
            "unknown platform \"mars\" (local, kubernetes, aws, gcp, azure)");
  EXPECT_EQ(refusal({{"name", "box"}}),
            "permissions is required: a permission profile (execution, read-only)");
  EXPECT_EQ(refusal(with("permissions", "root")),
            "unknown permission profile \"root\" (execution, read-only)");
  EXPECT_NE(refusal(with("name", "Box_1")).find("lowercase letters"), std::string::npos);
  EXPECT_NE(refusal(with("name", std::string(64, 'a'))).find("1 to 63"), std::string::npos);
  EXPECT_EQ(refusal(with("env", {{"1BAD", "x"}})), "env: \"1BAD\" is not a variable name");
  EXPECT_EQ(refusal(with("labels", {{"gpu", 1}})), "labels.gpu must be a string");
  EXPECT_EQ(refusal(with("code", {{"binary", "/x"}, {"image", "y"}})),
            "code names both a binary and an image; give one");
  EXPECT_NE(refusal(with("replicas", 3)).find("has no field \"replicas\""), std::string::npos);
  EXPECT_EQ(refusal(with("always_on", "yes")), "always_on must be true or false");
}

TEST(ManagedDaemonSpec, PreflightRefusesProvidersBeforeCallingThem) {
  const std::vector<DaemonPlatform> served = {DaemonPlatform::local, DaemonPlatform::kubernetes};
  EXPECT_TRUE(preflight_platform(DaemonPlatform::kubernetes, served).has_value());
  const auto aws = preflight_platform(DaemonPlatform::aws, served);
  ASSERT_FALSE(aws.has_value());
  EXPECT_EQ(aws.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(aws.error().message,
            "platform aws is not supported yet (no provider was called); daemons run on: local, "
            "kubernetes");
}

TEST(ManagedDaemonRound, DecidesFromTheWishWhatRunsAndTheClock) {
  DaemonRound r;
  r.now_ms = 100'000;
  r.last_activity_at_ms = 90'000;
  r.suspend_after = seconds(30);
  EXPECT_EQ(decide_round(r), RoundAction::start) << "pending, nothing runs";
  r.next_attempt_at_ms = 120'000;
  EXPECT_EQ(decide_round(r), RoundAction::wait);
  r.presence = PodState::running;
  EXPECT_EQ(decide_round(r), RoundAction::connect);
  r.connected = true;
  EXPECT_EQ(decide_round(r), RoundAction::none);
  r.now_ms = 120'000;
  r.connected = false;
  EXPECT_EQ(decide_round(r), RoundAction::connect)
      << "not idle until reachable: a call may be waiting for it to connect";
  r.connected = true;
  r.requests_wait_until_ms = 130'000;
  EXPECT_EQ(decide_round(r), RoundAction::none) << "a stored call still waits for it";
  r.requests_wait_until_ms = 0;
  EXPECT_EQ(decide_round(r), RoundAction::suspend_idle);
  r.always_on = true;
  EXPECT_EQ(decide_round(r), RoundAction::none);
  r.observed = ObservedState::running;
  r.presence = PodState::exited;
  EXPECT_EQ(decide_round(r), RoundAction::note_exit) << "recorded before it is restarted";
  r.desired = DesiredState::suspended;
  r.presence = PodState::absent;
  EXPECT_EQ(decide_round(r), RoundAction::suspend) << "recorded suspended";
  r.observed = ObservedState::suspended;
  EXPECT_EQ(decide_round(r), RoundAction::none);
  r.desired = DesiredState::deleted;
  EXPECT_EQ(decide_round(r), RoundAction::remove);
  EXPECT_EQ(restart_delay(0), seconds(1));
  EXPECT_EQ(restart_delay(3), seconds(8));
  EXPECT_EQ(restart_delay(40), minutes(5));
}

}  // namespace
}  // namespace reliant
