// The built-in workflows: each decides purely from the run state.
#include "core/engine/builtin_workflows.h"

namespace reliant::engine {
namespace {

Error bad_input(const std::string& workflow, const std::string& why) {
  return Error{ErrorCode::invalid_argument, "invalid input for workflow " + workflow + ": " + why};
}

class EchoChain final : public Workflow {
 public:
  std::string_view name() const override { return "echo_chain"; }
  Result<std::vector<Command>> decide(const RunState& state) const override {
    const Json& in = state.input;
    if (!in.is_object() || !in.contains("steps") || !in["steps"].is_number_integer()) {
      return fail(bad_input("echo_chain", "expected {\"steps\": N, \"payload\": …}"));
    }
    const auto steps = in["steps"].get<std::int64_t>();
    if (steps < 1 || steps > 10000)
      return fail(bad_input("echo_chain", "steps must be within 1..10000"));
    if (state.pending_activities() > 0) return std::vector<Command>{};
    Json outputs = Json::array();
    for (const auto& [seq, activity] : state.activities) {
      if (activity.status == ActivityState::Status::failed) {
        return std::vector<Command>{
            FailRun{"step " + std::to_string(outputs.size() + 1) + " failed: " + activity.error}};
      }
      outputs.push_back(activity.result);
    }
    const auto done = static_cast<std::int64_t>(outputs.size());
    if (done < steps) {
      Json step{{"step", done + 1}, {"payload", in.value("payload", Json())}};
      // Test knobs passed through to the echo activity: a slow step, failing first attempts.
      for (const char* knob : {"delay_ms", "fail_attempts"}) {
        if (in.contains(knob)) step[knob] = in[knob];
      }
      ActivityOptions options;
      if (in.contains("start_to_close_ms") && in["start_to_close_ms"].is_number_integer()) {
        options.start_to_close = milliseconds(in["start_to_close_ms"].get<std::int64_t>());
      }
      if (in.contains("heartbeat_timeout_ms") && in["heartbeat_timeout_ms"].is_number_integer()) {
        options.heartbeat_timeout = milliseconds(in["heartbeat_timeout_ms"].get<std::int64_t>());
      }
      if (in.contains("max_attempts") && in["max_attempts"].is_number_integer()) {
        const auto attempts = in["max_attempts"].get<std::int64_t>();
        if (attempts < 1 || attempts > 100)
          return fail(bad_input("echo_chain", "max_attempts must be within 1..100"));
        options.attempts_max = static_cast<std::int32_t>(attempts);
      }
      return std::vector<Command>{ScheduleActivity{"echo", std::move(step), options}};
    }
    return std::vector<Command>{
        CompleteRun{Json{{"steps", steps}, {"outputs", std::move(outputs)}}}};
  }
};

class Sleep final : public Workflow {
 public:
  std::string_view name() const override { return "sleep"; }
  Result<std::vector<Command>> decide(const RunState& state) const override {
    const Json& in = state.input;
    if (!in.is_object() || !in.contains("seconds") || !in["seconds"].is_number()) {
      return fail(bad_input("sleep", "expected {\"seconds\": S}"));
    }
    const double seconds_f = in["seconds"].get<double>();
    if (seconds_f < 0 || seconds_f > 31536000)
      return fail(bad_input("sleep", "seconds must be within 0..31536000"));
    if (state.timers.empty()) {
      return std::vector<Command>{
          StartTimer{Duration(static_cast<Duration::rep>(seconds_f * 1e9)), "", nullptr}};
    }
    const TimerState& timer = state.timers.begin()->second;
    if (!timer.fired) return std::vector<Command>{};
    return std::vector<Command>{
        CompleteRun{Json{{"slept_ms", static_cast<std::int64_t>(seconds_f * 1000)}}}};
  }
};

class AwaitSignal final : public Workflow {
 public:
  std::string_view name() const override { return "await_signal"; }
  Result<std::vector<Command>> decide(const RunState& state) const override {
    const Json& in = state.input;
    if (!in.is_object() || !in.contains("signal") || !in["signal"].is_string() ||
        in["signal"].get<std::string>().empty()) {
      return fail(bad_input("await_signal", "expected {\"signal\": NAME, \"timeout_seconds\": T}"));
    }
    const std::string wanted = in["signal"].get<std::string>();
    for (const auto& signal : state.signals) {
      if (signal.name == wanted)
        return std::vector<Command>{
            CompleteRun{Json{{"signal", wanted}, {"payload", signal.payload}}}};
    }
    if (in.contains("timeout_seconds")) {
      if (!in["timeout_seconds"].is_number() || in["timeout_seconds"].get<double>() < 0) {
        return fail(bad_input("await_signal", "timeout_seconds must be a non-negative number"));
      }
      if (state.timers.empty()) {
        return std::vector<Command>{StartTimer{
            Duration(static_cast<Duration::rep>(in["timeout_seconds"].get<double>() * 1e9)), "",
            nullptr}};
      }
      if (state.timers.begin()->second.fired) {
        return std::vector<Command>{FailRun{"timed out waiting for signal '" + wanted + "'"}};
      }
    }
    return std::vector<Command>{};
  }
};

}  // namespace

void register_builtin_workflows(WorkflowRegistry& registry) {
  registry.add(std::make_unique<EchoChain>());
  registry.add(std::make_unique<Sleep>());
  registry.add(std::make_unique<AwaitSignal>());
}

}  // namespace reliant::engine
