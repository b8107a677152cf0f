// Daemon selection: selector parsing, matching, the priority levels and the default cascade.
#include "core/daemon_selection.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace reliant {
namespace {

constexpr auto kLocal = DaemonType::local;
constexpr auto kCloud = DaemonType::cloud;
constexpr auto kActive = DaemonStatus::active;
constexpr auto kIdle = DaemonStatus::idle;
constexpr auto kGone = DaemonStatus::disconnected;

DaemonCandidate daemon(std::string id, DaemonType type, DaemonStatus status,
                       std::int64_t connected_at_ms = 0, std::int64_t created_at_ms = 0,
                       std::map<std::string, std::string> labels = {}, std::string user = "u1") {
  DaemonCandidate d;
  d.id = id;
  d.user_id = std::move(user);
  d.name = "name-" + id;
  d.type = type;
  d.labels = std::move(labels);
  d.status = status;
  d.connected_at_ms = connected_at_ms;
  d.created_at_ms = created_at_ms;
  return d;
}

SelectorSource source(const Json& json) {
  auto parsed = parse_selector_source(json);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  return *parsed;
}

DaemonSelector selector(const Json& json) {
  auto parsed = parse_daemon_selector(json);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  return *parsed;
}

std::string parse_error(const Json& json) {
  auto parsed = parse_daemon_selector(json);
  EXPECT_FALSE(parsed.has_value()) << json.dump();
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument);
  return parsed.error().message;
}

SelectionRequest request_for(std::string user = "u1") {
  SelectionRequest r;
  r.user_id = std::move(user);
  return r;
}

// The decision, failing the test when the step was not one.
DaemonDecision decision(const Result<SelectionStep>& step) {
  EXPECT_TRUE(step.has_value()) << step.error().message;
  if (!step) return {};
  const auto* d = std::get_if<DaemonDecision>(&*step);
  EXPECT_NE(d, nullptr) << "asked for the control plane";
  return d ? *d : DaemonDecision{};
}

// --- parsing -------------------------------------------------------------------------------

TEST(DaemonSelectionParse, ShorthandKeywordsSelectByTypeAnythingElseByName) {
  EXPECT_EQ(selector("local").type, DaemonTypeFilter::local);
  EXPECT_EQ(selector("cloud").type, DaemonTypeFilter::cloud);
  EXPECT_EQ(selector("any").type, DaemonTypeFilter::any);
  EXPECT_FALSE(selector("local").name);

  const auto named = selector("gpu-box");
  EXPECT_EQ(named.name, "gpu-box");
  EXPECT_FALSE(named.type);
  // Keywords are exact: "Local" is a name.
  EXPECT_EQ(selector("Local").name, "Local");
  EXPECT_FALSE(selector("Local").type);
}

TEST(DaemonSelectionParse, StructuredSelectorKeepsEveryField) {
  const auto s = selector(
      Json{{"id", "d1"}, {"name", "box"}, {"type", "cloud"}, {"labels", {{"gpu", "a100"}}}});
  EXPECT_EQ(s.id, "d1");
  EXPECT_EQ(s.name, "box");
  EXPECT_EQ(s.type, DaemonTypeFilter::cloud);
  EXPECT_EQ(s.labels, (std::map<std::string, std::string>{{"gpu", "a100"}}));
  // A name in an object is a name even when it reads as a keyword.
  const auto local_name = selector(Json{{"name", "local"}});
  EXPECT_EQ(local_name.name, "local");
  EXPECT_FALSE(local_name.type);
}

TEST(DaemonSelectionParse, ErrorsSayExactlyWhatIsWrong) {
  EXPECT_EQ(parse_error(Json(42)), "daemon selector must be a string or an object, got number");
  EXPECT_EQ(parse_error(Json(nullptr)), "daemon selector must be a string or an object, got null");
  EXPECT_EQ(parse_error(Json::array({"local"})),
            "daemon selector must be a string or an object, got array");
  EXPECT_EQ(parse_error(""), "daemon selector must not be empty");
  EXPECT_EQ(parse_error("{{ inputs.x }}"),
            "daemon selector \"{{ inputs.x }}\" is an expression, not a literal selector");
  EXPECT_EQ(parse_error(Json{{"name", "a"}, {"gpu", "a100"}}),
            "daemon selector has unknown key \"gpu\" (expected id, name, type or labels)");
  EXPECT_EQ(parse_error(Json{{"id", 7}}),
            "daemon selector key \"id\" must be a string, got number");
  EXPECT_EQ(parse_error(Json{{"name", ""}}), "daemon selector key \"name\" must not be empty");
  EXPECT_EQ(parse_error(Json{{"type", "gpu"}}),
            "daemon selector key \"type\" must be local, cloud or any, got \"gpu\"");
  EXPECT_EQ(parse_error(Json{{"type", true}}),
            "daemon selector key \"type\" must be a string, got boolean");
  EXPECT_EQ(parse_error(Json{{"labels", Json::array()}}),
            "daemon selector key \"labels\" must be an object, got array");
  EXPECT_EQ(parse_error(Json{{"labels", {{"gpu", 1}}}}),
            "daemon selector label \"gpu\" must be a string, got number");
  EXPECT_EQ(parse_error(Json{{"labels", {{"", "x"}}}}),
            "daemon selector label names must not be empty");
  EXPECT_EQ(parse_error(Json::object()),
            "daemon selector must specify at least one of id, name, type or labels");
  EXPECT_EQ(parse_error(Json{{"labels", Json::object()}}),
            "daemon selector must specify at least one of id, name, type or labels");
}

TEST(DaemonSelectionParse, ToStringRoundTripsAndKeepsNamesApartFromKeywords) {
  EXPECT_EQ(to_string(selector("local")), "\"local\"");
  EXPECT_EQ(to_string(selector("gpu-box")), "\"gpu-box\"");
  EXPECT_EQ(to_string(selector(Json{{"name", "local"}})), "{\"name\":\"local\"}");
  EXPECT_EQ(to_string(selector(Json{{"labels", {{"gpu", "a100"}}}, {"type", "any"}})),
            "{\"labels\":{\"gpu\":\"a100\"},\"type\":\"any\"}");
  for (const Json& json : {Json("cloud"), Json("box"), Json{{"name", "any"}},
                           Json{{"id", "d1"}, {"labels", {{"a", "b"}}}}}) {
    const auto s = selector(json);
    EXPECT_EQ(selector(to_json(s)), s) << json.dump();
  }
}

TEST(DaemonSelectionParse, WholeStringExpressionsAreASeparateSource) {
  const auto expr = source("{{ inputs.daemon_type }}");
  ASSERT_TRUE(std::holds_alternative<SelectorExpression>(expr));
  EXPECT_EQ(std::get<SelectorExpression>(expr).text, "inputs.daemon_type");
  EXPECT_EQ(to_string(expr), "\"{{ inputs.daemon_type }}\"");
  EXPECT_EQ(std::get<DaemonSelector>(source("cloud")).type, DaemonTypeFilter::cloud);

  const auto mixed = parse_selector_source("gpu-{{ inputs.n }}");
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().message,
            "daemon selector \"gpu-{{ inputs.n }}\" mixes text and an expression; an expression "
            "must be the whole string");
  const auto empty = parse_selector_source("{{  }}");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "daemon selector expression \"{{  }}\" is empty");
  EXPECT_FALSE(parse_selector_source(Json{{"nope", 1}}));
}

// --- matching ------------------------------------------------------------------------------

TEST(DaemonSelectionMatch, LabelsAreASubsetMatch) {
  const auto d = daemon("d1", kLocal, kActive, 0, 0, {{"gpu", "a100"}, {"zone", "eu"}});
  EXPECT_TRUE(matches(selector(Json{{"labels", {{"gpu", "a100"}}}}), d));
  EXPECT_TRUE(matches(selector(Json{{"labels", {{"gpu", "a100"}, {"zone", "eu"}}}}), d));
  EXPECT_FALSE(matches(selector(Json{{"labels", {{"gpu", "h100"}}}}), d));  // other value
  EXPECT_FALSE(matches(selector(Json{{"labels", {{"gpu", "a100"}, {"ram", "64"}}}}), d));
  EXPECT_FALSE(matches(selector(Json{{"labels", {{"gpu", "a100"}}}}),
                       daemon("d2", kLocal, kActive)));  // no labels at all
}

TEST(DaemonSelectionMatch, EveryFieldMustMatch) {
  const auto d = daemon("d1", kCloud, kActive, 0, 0, {{"gpu", "a100"}});
  EXPECT_TRUE(matches(selector(Json{{"id", "d1"}, {"type", "cloud"}}), d));
  EXPECT_FALSE(matches(selector(Json{{"id", "d1"}, {"type", "local"}}), d));
  EXPECT_FALSE(matches(selector(Json{{"name", "name-d1"}, {"labels", {{"gpu", "x"}}}}), d));
  EXPECT_TRUE(matches(selector(Json{{"name", "name-d1"}, {"labels", {{"gpu", "a100"}}}}), d));
  EXPECT_TRUE(matches(selector("any"), d));
  EXPECT_TRUE(matches(selector("any"), daemon("d2", kLocal, kGone)));
  EXPECT_TRUE(matches(selector("cloud"), d));
  EXPECT_FALSE(matches(selector("local"), d));
  EXPECT_TRUE(matches(selector("name-d1"), d));
  EXPECT_FALSE(matches(selector("d1"), d));  // a shorthand is a name, not an id
}

// --- priority levels -----------------------------------------------------------------------

// One daemon for each level to pick, all connected, so only priority can explain the choice.
std::vector<DaemonCandidate> one_per_level() {
  return {daemon("node", kCloud, kActive, 10), daemon("wf", kCloud, kActive, 20),
          daemon("session", kCloud, kActive, 30), daemon("default", kLocal, kActive, 40)};
}

TEST(DaemonSelectionPriority, NodeSelectorWinsOverEveryLowerLevel) {
  auto r = request_for();
  r.node_selector = source("name-node");
  r.workflow_selector = source("name-wf");
  r.session_daemon_id = "session";
  EXPECT_EQ(decision(select_daemon(r, one_per_level())),
            (DaemonDecision{"node", SelectionLevel::node}));
}

TEST(DaemonSelectionPriority, WorkflowSelectorWinsOverSessionAndDefault) {
  auto r = request_for();
  r.workflow_selector = source("name-wf");
  r.session_daemon_id = "session";
  EXPECT_EQ(decision(select_daemon(r, one_per_level())),
            (DaemonDecision{"wf", SelectionLevel::workflow}));
}

TEST(DaemonSelectionPriority, SessionDaemonWinsOverDefaultEvenWhenDisconnected) {
  auto candidates = one_per_level();
  candidates[2].status = kGone;
  auto r = request_for();
  r.session_daemon_id = "session";
  EXPECT_EQ(decision(select_daemon(r, candidates)),
            (DaemonDecision{"session", SelectionLevel::session}));
}

TEST(DaemonSelectionPriority, DefaultWhenNothingIsSet) {
  EXPECT_EQ(decision(select_daemon(request_for(), one_per_level())),
            (DaemonDecision{"default", SelectionLevel::connected}));
}

TEST(DaemonSelectionPriority, ASetLevelThatMatchesNothingFailsInsteadOfFallingThrough) {
  auto r = request_for();
  r.node_selector = source("gpu-box");
  r.workflow_selector = source("name-wf");
  r.session_daemon_id = "session";
  auto step = select_daemon(r, one_per_level());
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::not_found);
  EXPECT_EQ(step.error().message,
            "node-level daemon selector \"gpu-box\" matches no daemon of user u1");

  r.node_selector.reset();
  r.workflow_selector = source(Json{{"labels", {{"gpu", "a100"}}}});
  step = select_daemon(r, one_per_level());
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().message,
            "workflow-level daemon selector {\"labels\":{\"gpu\":\"a100\"}} matches no daemon of "
            "user u1");

  r.workflow_selector.reset();
  r.session_daemon_id = "d9";
  step = select_daemon(r, one_per_level());
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::not_found);
  EXPECT_EQ(step.error().message, "session daemon \"d9\" is not a daemon of user u1");

  r.session_daemon_id = "";
  step = select_daemon(r, one_per_level());
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::invalid_argument);
}

TEST(DaemonSelectionPriority, ShorthandKeywordSelectsByTypeNotByName) {
  // A cloud daemon named "local" and a local daemon with another name.
  auto named_local = daemon("c1", kCloud, kActive, 100);
  named_local.name = "local";
  const std::vector<DaemonCandidate> candidates = {named_local, daemon("l1", kLocal, kGone, 1)};
  auto r = request_for();
  r.node_selector = source("local");
  EXPECT_EQ(decision(select_daemon(r, candidates)).daemon_id, "l1");
  r.node_selector = source(Json{{"name", "local"}});
  EXPECT_EQ(decision(select_daemon(r, candidates)).daemon_id, "c1");
}

// --- several matches -----------------------------------------------------------------------

std::string pick(const Json& json, const std::vector<DaemonCandidate>& candidates) {
  auto r = request_for();
  r.node_selector = source(json);
  return decision(select_daemon(r, candidates)).daemon_id;
}

TEST(DaemonSelectionPreference, ConnectedThenLocalThenMostRecentThenId) {
  // Connected beats local: a disconnected local loses to a connected cloud.
  EXPECT_EQ(pick("any", {daemon("l", kLocal, kGone, 99), daemon("c", kCloud, kIdle, 1)}), "c");
  // Among connected: local beats a more recently connected cloud.
  EXPECT_EQ(pick("any", {daemon("c", kCloud, kActive, 99), daemon("l", kLocal, kIdle, 1)}), "l");
  // Same type: the most recently connected.
  EXPECT_EQ(pick("any", {daemon("a", kLocal, kActive, 5), daemon("b", kLocal, kActive, 9)}), "b");
  // Full tie: the smallest id.
  EXPECT_EQ(pick("any", {daemon("b", kLocal, kActive, 5), daemon("a", kLocal, kActive, 5)}), "a");
  // Only disconnected matches: still chosen (an explicit choice), the most recent of them.
  EXPECT_EQ(pick("cloud", {daemon("c1", kCloud, kGone, 5), daemon("c2", kCloud, kGone, 7),
                           daemon("l", kLocal, kActive, 9)}),
            "c2");
}

// --- default cascade -----------------------------------------------------------------------

TEST(DaemonSelectionDefault, PrefersConnectedLocalOverCloudThenMostRecent) {
  const std::vector<DaemonCandidate> candidates = {
      daemon("cloud-new", kCloud, kActive, 1000), daemon("local-old", kLocal, kIdle, 10),
      daemon("local-new", kLocal, kActive, 500), daemon("local-gone", kLocal, kGone, 2000)};
  EXPECT_EQ(decision(select_daemon(request_for(), candidates)),
            (DaemonDecision{"local-new", SelectionLevel::connected}));
  // Only cloud daemons connected: the most recent cloud one, not the disconnected local one.
  const std::vector<DaemonCandidate> clouds = {daemon("c1", kCloud, kIdle, 10),
                                               daemon("c2", kCloud, kActive, 20),
                                               daemon("l", kLocal, kGone, 30)};
  EXPECT_EQ(decision(select_daemon(request_for(), clouds)).daemon_id, "c2");
}

TEST(DaemonSelectionDefault, AsksTheControlPlaneWhenNothingIsConnected) {
  const std::vector<DaemonCandidate> candidates = {daemon("l", kLocal, kGone, 10),
                                                   daemon("c", kCloud, kGone, 20)};
  auto r = request_for();
  r.control_plane_configured = true;
  const auto step = select_daemon(r, candidates);
  ASSERT_TRUE(step);
  ASSERT_TRUE(std::holds_alternative<NeedsControlPlane>(*step));
  EXPECT_EQ(std::get<NeedsControlPlane>(*step).user_id, "u1");

  // Its answer wins, even a daemon that is not connected yet (it may be starting it).
  const Result<std::optional<std::string>> answer = std::optional<std::string>("c");
  EXPECT_EQ(finish_daemon_selection(r, candidates, answer),
            (DaemonDecision{"c", SelectionLevel::control_plane}));
}

TEST(DaemonSelectionDefault, NotAskedWhenADaemonIsConnectedOrNoControlPlaneIsConfigured) {
  auto r = request_for();
  r.control_plane_configured = true;
  const std::vector<DaemonCandidate> connected = {daemon("c", kCloud, kIdle, 1)};
  EXPECT_EQ(decision(select_daemon(r, connected)).daemon_id, "c");
  r.control_plane_configured = false;
  const std::vector<DaemonCandidate> disconnected = {daemon("c", kCloud, kGone, 1)};
  const auto step = select_daemon(r, disconnected);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::not_found);
  EXPECT_EQ(step.error().message, "user u1 has no daemon to run on: none connected, none active");
}

TEST(DaemonSelectionDefault, DatabaseFallbackTakesTheOldestActiveDaemon) {
  auto r = request_for();
  r.control_plane_configured = true;
  // Read again after the control plane answered: two daemons became active meanwhile.
  const std::vector<DaemonCandidate> fresh = {
      daemon("young", kLocal, kActive, 0, 300), daemon("b-old", kCloud, kActive, 0, 100),
      daemon("a-old", kCloud, kActive, 0, 100), daemon("idle", kLocal, kIdle, 0, 1),
      daemon("gone", kLocal, kGone, 0, 1)};
  const Result<std::optional<std::string>> none = std::optional<std::string>();
  EXPECT_EQ(finish_daemon_selection(r, fresh, none),
            (DaemonDecision{"a-old", SelectionLevel::database}));
  // A failed control plane call also falls back to the database.
  const Result<std::optional<std::string>> failed = fail(ErrorCode::unavailable, "down");
  EXPECT_EQ(finish_daemon_selection(r, fresh, failed),
            (DaemonDecision{"a-old", SelectionLevel::database}));
}

TEST(DaemonSelectionDefault, NothingAnywhereSaysWhatEachStepFound) {
  auto r = request_for();
  r.control_plane_configured = true;
  const std::vector<DaemonCandidate> candidates = {daemon("l", kLocal, kGone)};

  const Result<std::optional<std::string>> none = std::optional<std::string>();
  auto result = finish_daemon_selection(r, candidates, none);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::not_found);
  EXPECT_EQ(result.error().message,
            "user u1 has no daemon to run on: none connected, the control plane had none, none "
            "active");

  // A failed call keeps its code, so the caller knows a retry may help.
  const Result<std::optional<std::string>> failed = fail(ErrorCode::unavailable, "down");
  result = finish_daemon_selection(r, candidates, failed);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::unavailable);
  EXPECT_EQ(result.error().message,
            "user u1 has no daemon to run on: none connected, the control plane failed "
            "(unavailable: down), none active");
}

// --- isolation between users ---------------------------------------------------------------

TEST(DaemonSelectionIsolation, AnotherUsersDaemonIsNeverChosen) {
  // u2's daemon would win every ordering rule; u1 has only a disconnected one.
  const std::vector<DaemonCandidate> candidates = {
      daemon("theirs", kLocal, kActive, 1000, 0, {{"gpu", "a100"}}, "u2"),
      daemon("mine", kCloud, kGone, 1, 0, {}, "u1")};
  auto r = request_for();
  EXPECT_FALSE(select_daemon(r, candidates));  // default: nothing connected for u1

  r.node_selector = source(Json{{"id", "theirs"}});
  auto step = select_daemon(r, candidates);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::not_found);
  r.node_selector = source("any");
  EXPECT_EQ(decision(select_daemon(r, candidates)).daemon_id, "mine");

  r.node_selector.reset();
  r.session_daemon_id = "theirs";
  step = select_daemon(r, candidates);
  ASSERT_FALSE(step);
  // The same answer as for an id that does not exist: no hint that it belongs to someone.
  EXPECT_EQ(step.error().message, "session daemon \"theirs\" is not a daemon of user u1");

  r.session_daemon_id.reset();
  r.control_plane_configured = true;
  const Result<std::optional<std::string>> answer = std::optional<std::string>("theirs");
  const auto result = finish_daemon_selection(r, candidates, answer);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "user u1 has no daemon to run on: none connected, the control plane named "
            "\"theirs\", which is not one of theirs, none active");
}

// --- expressions ---------------------------------------------------------------------------

class FixedEvaluator : public ExpressionEvaluator {
 public:
  explicit FixedEvaluator(Result<Json> answer) : answer_(std::move(answer)) {}
  Result<Json> evaluate(std::string_view expression) const override {
    last_ = std::string(expression);
    return answer_;
  }
  mutable std::string last_;

 private:
  Result<Json> answer_;
};

TEST(DaemonSelectionExpression, WithoutAnEvaluatorAnExpressionIsRefused) {
  auto r = request_for();
  r.node_selector = source("{{ inputs.daemon_type }}");
  const auto step = select_daemon(r, one_per_level());
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(step.error().message,
            "node-level daemon selector \"{{ inputs.daemon_type }}\" is an expression with "
            "nothing to evaluate it against here");
}

TEST(DaemonSelectionExpression, AnEvaluatedSelectorIsUsedLikeALiteralOne) {
  auto r = request_for();
  r.workflow_selector = source("{{ inputs.daemon_type }}");
  const std::vector<DaemonCandidate> candidates = {daemon("l", kLocal, kActive, 9),
                                                   daemon("c", kCloud, kActive, 1)};
  const FixedEvaluator cloud(Json("cloud"));
  EXPECT_EQ(decision(select_daemon(r, candidates, &cloud)),
            (DaemonDecision{"c", SelectionLevel::workflow}));
  EXPECT_EQ(cloud.last_, "inputs.daemon_type");

  const FixedEvaluator nothing(Json("gpu-box"));
  auto step = select_daemon(r, candidates, &nothing);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().message,
            "workflow-level daemon selector \"{{ inputs.daemon_type }}\" (evaluated to "
            "\"gpu-box\") matches no daemon of user u1");

  const FixedEvaluator invalid(Json(3));
  step = select_daemon(r, candidates, &invalid);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(step.error().message,
            "workflow-level daemon selector \"{{ inputs.daemon_type }}\" evaluated to an invalid "
            "selector: daemon selector must be a string or an object, got number");

  const FixedEvaluator broken(fail(ErrorCode::not_found, "no input daemon_type"));
  step = select_daemon(r, candidates, &broken);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, ErrorCode::not_found);
  EXPECT_EQ(step.error().message,
            "workflow-level daemon selector \"{{ inputs.daemon_type }}\" failed to evaluate: no "
            "input daemon_type");
}

TEST(DaemonSelectionDeterminism, CandidateOrderDoesNotMatter) {
  std::vector<DaemonCandidate> candidates = {
      daemon("a", kLocal, kActive, 5), daemon("b", kLocal, kActive, 5),
      daemon("c", kCloud, kActive, 9), daemon("d", kLocal, kGone, 99)};
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  do {
    EXPECT_EQ(decision(select_daemon(request_for(), candidates)).daemon_id, "a");
  } while (std::next_permutation(candidates.begin(), candidates.end(),
                                 [](const auto& x, const auto& y) { return x.id < y.id; }));
}

}  // namespace
}  // namespace reliant
