// Properties of daemon selection (core/daemon_selection.h): the highest set level decides, only
// the user's own daemons are chosen, the order of candidates does not matter, and the default
// cascade's first step only picks connected daemons.
#include <algorithm>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/daemon_selection.h"
#include "property/property_check.h"

namespace reliant::property {
namespace {

constexpr int kDaemonsMax = 8;
const std::string kUser = "u1";

// Uniform in [min, max) whatever rapidcheck's current size: the pools are small already, and
// small sizes would otherwise make empty candidate lists the common case.
int uniform(int min, int max) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange(min, max));
}

// Small pools so that selectors often match, and ties on every ordering key are common.
std::map<std::string, std::string> gen_labels() {
  std::map<std::string, std::string> labels;
  for (const auto* key : {"gpu", "zone"}) {
    const int value = uniform(0, 3);
    if (value > 0) labels[key] = value == 1 ? "a" : "b";
  }
  return labels;
}

rc::Gen<std::string> gen_name() { return rc::gen::element<std::string>("alpha", "beta", "local"); }

std::string gen_id() { return "d" + std::to_string(uniform(0, kDaemonsMax + 2)); }

// Ids are unique, as they are in the store; owners are u1 (mostly) or u2.
std::vector<DaemonCandidate> gen_candidates() {
  const int count = uniform(0, kDaemonsMax + 1);
  std::vector<DaemonCandidate> candidates;
  for (int i = 0; i < count; ++i) {
    DaemonCandidate d;
    d.id = "d" + std::to_string(i);
    d.user_id = uniform(0, 3) == 0 ? "u2" : kUser;
    d.name = *gen_name();
    d.type = *rc::gen::element(DaemonType::local, DaemonType::cloud);
    d.labels = gen_labels();
    d.status =
        *rc::gen::element(DaemonStatus::active, DaemonStatus::idle, DaemonStatus::disconnected);
    d.connected_at_ms = uniform(0, 4);
    d.created_at_ms = uniform(0, 4);
    candidates.push_back(std::move(d));
  }
  return candidates;
}

DaemonSelector gen_selector() {
  DaemonSelector s;
  do {
    if (uniform(0, 4) == 0) s.id = gen_id();
    if (uniform(0, 3) == 0) s.name = *gen_name();
    if (uniform(0, 2) == 0) {
      s.type = *rc::gen::element(DaemonTypeFilter::local, DaemonTypeFilter::cloud,
                                 DaemonTypeFilter::any);
    }
    if (uniform(0, 3) == 0) {  // one label: two would rarely match anything
      s.labels[uniform(0, 2) == 0 ? "gpu" : "zone"] = uniform(0, 2) == 0 ? "a" : "b";
    }
  } while (!s.id && !s.name && !s.type && s.labels.empty());
  return s;
}

SelectionRequest gen_request() {
  SelectionRequest r;
  r.user_id = kUser;
  if (uniform(0, 3) == 0) r.node_selector = gen_selector();
  if (uniform(0, 3) == 0) r.workflow_selector = gen_selector();
  if (uniform(0, 3) == 0) r.session_daemon_id = gen_id();
  r.control_plane_configured = *rc::gen::arbitrary<bool>();
  return r;
}

Result<std::optional<std::string>> gen_control_plane_answer() {
  switch (uniform(0, 3)) {
    case 0:
      return fail(ErrorCode::unavailable, "down");
    case 1:
      return std::optional<std::string>();
    default:
      return std::optional<std::string>(gen_id());
  }
}

const DaemonCandidate* own(const std::vector<DaemonCandidate>& candidates, const std::string& id) {
  for (const auto& c : candidates) {
    if (c.id == id && c.user_id == kUser) return &c;
  }
  return nullptr;
}

// The oracle's preference among matches of one rule: smaller is better.
auto preference_key(const DaemonCandidate& c) {
  return std::make_tuple(!is_connected(c), c.type != DaemonType::local, -c.connected_at_ms, c.id);
}

// The whole cascade, asking the generated control plane when told to.
Result<DaemonDecision> run_to_decision(const SelectionRequest& request,
                                       const std::vector<DaemonCandidate>& candidates,
                                       const Result<std::optional<std::string>>& answer) {
  auto step = select_daemon(request, candidates);
  if (!step) return fail(step.error());
  if (const auto* decision = std::get_if<DaemonDecision>(&*step)) return *decision;
  RC_ASSERT(request.control_plane_configured);
  RC_ASSERT(std::get<NeedsControlPlane>(*step).user_id == request.user_id);
  return finish_daemon_selection(request, candidates, answer);
}

TEST(DaemonSelectionProperty, TheHighestSetSelectorDecides) {
  check_property(500, [] {
    const auto candidates = gen_candidates();
    auto request = gen_request();
    if (!request.node_selector && !request.workflow_selector) {
      request.workflow_selector = gen_selector();
    }
    const std::optional<DaemonSelector>* highest = nullptr;
    std::optional<DaemonSelector> node, workflow;
    if (request.node_selector) node = std::get<DaemonSelector>(*request.node_selector);
    if (request.workflow_selector) workflow = std::get<DaemonSelector>(*request.workflow_selector);
    SelectionLevel level = SelectionLevel::node;
    if (node) {
      highest = &node;
    } else if (workflow) {
      highest = &workflow;
      level = SelectionLevel::workflow;
    }
    RC_ASSERT(highest != nullptr);

    std::vector<const DaemonCandidate*> eligible;
    for (const auto& c : candidates) {
      if (c.user_id == kUser && matches(**highest, c)) eligible.push_back(&c);
    }
    RC_TAG(eligible.size());
    const auto step = select_daemon(request, candidates);
    RC_ASSERT(step.has_value() == !eligible.empty());
    if (!step) {
      RC_ASSERT(step.error().code == ErrorCode::not_found);
      return;
    }
    const auto& decision = std::get<DaemonDecision>(*step);
    RC_ASSERT(decision.level == level);
    const auto* chosen = own(candidates, decision.daemon_id);
    RC_ASSERT(chosen != nullptr);
    RC_ASSERT(matches(**highest, *chosen));
    for (const auto* other : eligible) {
      RC_ASSERT(preference_key(*chosen) <= preference_key(*other));
    }
  });
}

TEST(DaemonSelectionProperty, TheSessionDaemonDecidesWhenNoSelectorIsSet) {
  check_property(300, [] {
    const auto candidates = gen_candidates();
    auto request = gen_request();
    request.node_selector.reset();
    request.workflow_selector.reset();
    request.session_daemon_id = gen_id();
    const auto step = select_daemon(request, candidates);
    const auto* mine = own(candidates, *request.session_daemon_id);
    RC_ASSERT(step.has_value() == (mine != nullptr));
    if (step) {
      RC_ASSERT(std::get<DaemonDecision>(*step) ==
                (DaemonDecision{*request.session_daemon_id, SelectionLevel::session}));
    }
  });
}

TEST(DaemonSelectionProperty, NeverAnotherUsersDaemon) {
  check_property(500, [] {
    const auto candidates = gen_candidates();
    const auto request = gen_request();
    const auto decision = run_to_decision(request, candidates, gen_control_plane_answer());
    RC_TAG(decision.has_value());
    if (decision) RC_ASSERT(own(candidates, decision->daemon_id) != nullptr);
  });
}

TEST(DaemonSelectionProperty, CandidateOrderDoesNotMatter) {
  check_property(500, [] {
    const auto candidates = gen_candidates();
    const auto request = gen_request();
    const auto answer = gen_control_plane_answer();
    // A generated permutation: sort the indices by random keys.
    const auto keys = *rc::gen::container<std::vector<int>>(
        candidates.size(), rc::gen::resize(rc::kNominalSize, rc::gen::arbitrary<int>()));
    std::vector<std::size_t> order(candidates.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
    std::vector<DaemonCandidate> shuffled;
    for (const auto i : order) shuffled.push_back(candidates[i]);

    const auto a = run_to_decision(request, candidates, answer);
    const auto b = run_to_decision(request, shuffled, answer);
    RC_ASSERT(a.has_value() == b.has_value());
    if (a) {
      RC_ASSERT(*a == *b);
    } else {
      RC_ASSERT(a.error().code == b.error().code);
      RC_ASSERT(a.error().message == b.error().message);
    }
  });
}

TEST(DaemonSelectionProperty, DefaultFirstStepPicksOnlyConnectedDaemons) {
  check_property(500, [] {
    const auto candidates = gen_candidates();
    SelectionRequest request;
    request.user_id = kUser;
    request.control_plane_configured = *rc::gen::arbitrary<bool>();
    const bool any_connected = std::any_of(candidates.begin(), candidates.end(), [](const auto& c) {
      return c.user_id == kUser && is_connected(c);
    });
    RC_TAG(any_connected);
    const auto decision = run_to_decision(request, candidates, gen_control_plane_answer());
    if (any_connected) {
      RC_ASSERT(decision.has_value());
      RC_ASSERT(decision->level == SelectionLevel::connected);
    }
    if (decision && decision->level == SelectionLevel::connected) {
      const auto* chosen = own(candidates, decision->daemon_id);
      RC_ASSERT(chosen != nullptr);
      RC_ASSERT(is_connected(*chosen));
      // Local over cloud: a cloud daemon only when no local one is connected.
      if (chosen->type == DaemonType::cloud) {
        for (const auto& c : candidates) {
          RC_ASSERT(!(c.user_id == kUser && is_connected(c) && c.type == DaemonType::local));
        }
      }
    }
    if (decision && decision->level == SelectionLevel::database) {
      RC_ASSERT(own(candidates, decision->daemon_id)->status == DaemonStatus::active);
    }
  });
}

TEST(DaemonSelectionProperty, SelectorsRoundTripThroughJson) {
  check_property(300, [] {
    const auto selector = gen_selector();
    const auto parsed = parse_daemon_selector(to_json(selector));
    RC_ASSERT(parsed.has_value());
    RC_ASSERT(*parsed == selector);
    const auto source = parse_selector_source(to_json(selector));
    RC_ASSERT(source.has_value());
    RC_ASSERT(std::get<DaemonSelector>(*source) == selector);
  });
}

}  // namespace
}  // namespace reliant::property
