// The activity registry and the built-in echo activity.
#include "services/worker/activity.h"

#include "base/assert.h"
#include "runtime/sleep.h"

namespace reliant::engine {

void ActivityRegistry::add(std::unique_ptr<Activity> activity) {
  RELIANT_ASSERT(activity != nullptr);
  const std::string name(activity->name());
  RELIANT_ASSERT_MSG(activities_.count(name) == 0, "activity registered twice");
  activities_.emplace(name, std::move(activity));
}

Activity* ActivityRegistry::find(std::string_view name) const {
  auto it = activities_.find(name);
  return it == activities_.end() ? nullptr : it->second.get();
}

namespace {

class Echo final : public Activity {
 public:
  std::string_view name() const override { return "echo"; }
  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    if (input.is_object() && input.contains("fail_attempts") &&
        input["fail_attempts"].is_number_integer() &&
        context.attempt <= input["fail_attempts"].get<std::int64_t>()) {
      co_return fail(ErrorCode::unavailable,
                     "echo: failing attempt " + std::to_string(context.attempt) + " on purpose");
    }
    if (input.is_object() && input.contains("delay_ms") && input["delay_ms"].is_number_integer()) {
      const auto delay = milliseconds(input["delay_ms"].get<std::int64_t>());
      for (int quarter = 0; quarter < 4; ++quarter) {
        co_await sleep(context.executor, delay / 4);
        context.heartbeat();
      }
    }
    co_return input;
  }
};

}  // namespace

void register_builtin_activities(ActivityRegistry& registry) {
  registry.add(std::make_unique<Echo>());
}

}  // namespace reliant::engine
