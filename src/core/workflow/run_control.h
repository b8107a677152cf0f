// Control of a running workflow run by its user: pause and resume, what to do with a step that
// failed while the run was set to pause on failures (retry it, perhaps with other args; skip it
// with a given output; or fail it, and with it the run), and a change of one of the run's inputs
// (the agent's `mode` among them). Each request is a signal in the run's history
// (kRunControlSignal), so the engine workflow reaches the same state on a replay; RunControl is
// that state, folded from the signals and the failures in history order.
//
// A paused run starts no new node: nodes already running finish and are recorded, and their
// messages are stored, but no activity, child run or timeout's timer is scheduled until it is
// resumed. A step that fails (its attempts spent) under `on_failure: pause` is held instead of
// failing its node: the run pauses until the user retries, skips or fails it — resuming retries
// every held step, as Reliant's resume retries the step that failed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant::workflow {

// The signal that carries a user's control request: payload ControlRequest's JSON.
inline constexpr std::string_view kRunControlSignal = "run_control";
// The run-request and workflow-file key naming what a failed step does: "pause" or "fail".
inline constexpr std::string_view kOnFailureKey = "on_failure";

enum class ControlAction { pause, resume, retry, skip, fail, set_input };
std::string_view to_string(ControlAction action) noexcept;
std::optional<ControlAction> control_action_named(std::string_view name) noexcept;

struct ControlRequest {
  ControlAction action = ControlAction::pause;
  std::string key;                                   // retry, skip, fail: the held step's key
  nlohmann::json args = nlohmann::json::object();    // retry: merged over the step's args
  nlohmann::json output = nlohmann::json::object();  // skip: the step's output
  std::string name;                                  // set_input: the input
  nlohmann::json value;                              // set_input: its new value
};
nlohmann::json to_json(const ControlRequest& request);
// Parses a signal's payload (or a client's request): unknown keys and wrong shapes are errors.
Result<ControlRequest> control_request_from_json(const nlohmann::json& json);

// A step that failed and waits for the user.
struct HeldStep {
  std::string key;
  std::string error;
  std::int64_t seq = 0;  // the history seq of its failure
};

// What the user asked of a held step's next attempt.
struct RetryRequest {
  int number = 0;                                  // 1 for the first retry
  nlohmann::json args = nlohmann::json::object();  // merged over the step's args
};

// The control state of one run, in history order. Pure: the engine workflow applies what each
// event asks of the interpreter (report a skipped or failed step, change an input).
class RunControl {
 public:
  // Whether the run starts nothing new: paused by its user, or holding a failed step.
  bool paused() const { return paused_by_user_ || !held_.empty(); }
  bool paused_by_user() const { return paused_by_user_; }
  const std::map<std::string, HeldStep>& held() const { return held_; }
  // Retries asked for, by step key: the step's activity is scheduled again under that number.
  const std::map<std::string, RetryRequest>& retries() const { return retries_; }
  // The retry number a step's next activity runs under (0 before any retry).
  int retry_number(const std::string& key) const;

  void hold(HeldStep step) { held_[step.key] = std::move(step); }
  void pause() { paused_by_user_ = true; }
  // Resumes the run; every held step is retried. Returns their keys.
  std::vector<std::string> resume();
  // Takes a held step for retry, skip or fail: false when `key` is not held (the request
  // changes nothing, as an answer to a node that no longer waits does not).
  bool release(const std::string& key);
  void retry(const std::string& key, nlohmann::json args);

 private:
  bool paused_by_user_ = false;
  std::map<std::string, HeldStep> held_;
  std::map<std::string, RetryRequest> retries_;
};

}  // namespace reliant::workflow
