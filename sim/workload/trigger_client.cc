// Trigger clients: make, disable and enable schedule triggers over the simulated REST API.
#include "sim/workload/trigger_client.h"

#include <nlohmann/json.hpp>

#include "runtime/scope.h"
#include "runtime/sleep.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

// How often the client looks at what it has to do.
constexpr Duration kTriggerClientRound = milliseconds(500);

class TriggerClient {
 public:
  TriggerClient(Env& env, const World& world, TriggerClientBook* book)
      : env_(env), world_(world), book_(book), scope_(env.executor) {
    scope_.spawn(loop());
  }

 private:
  Task<Result<ApiReply>> call(std::string method, std::string path, Json query, std::string body) {
    Task<Result<ApiReply>> calling =
        call_api(env_, book_->route, book_->token, book_->config.request_timeout, std::move(method),
                 std::move(path), std::move(query), std::move(body));
    co_return co_await calling;
  }

  Task<void> loop() {
    for (;;) {
      co_await sleep(env_.executor, kTriggerClientRound);
      for (auto& trigger : book_->triggers) {
        if (trigger.id.empty()) {
          Task<void> making = make(trigger);
          co_await making;
        } else if (!trigger.settled) {
          Task<void> setting = set_enabled(trigger);
          co_await setting;
        }
      }
      plan_toggle();
    }
  }

  // Until toggle_until, now and then one of the triggers flips (once every change before it was
  // taken); after it, every one is enabled.
  void plan_toggle() {
    const TriggerClientConfig& c = book_->config;
    const Instant now = world_.now();
    if (now - kSimEpoch >= c.toggle_until) {
      for (auto& trigger : book_->triggers) {
        if (trigger.enabled) continue;
        trigger.enabled = true;
        trigger.settled = false;
      }
      return;
    }
    if (now < book_->next_toggle) return;
    for (const auto& trigger : book_->triggers) {
      if (trigger.id.empty() || !trigger.settled) return;
    }
    MadeTrigger& flipped = book_->triggers[env_.random.below(book_->triggers.size())];
    flipped.enabled = !flipped.enabled;
    flipped.settled = false;
    ++flipped.toggles;
    book_->next_toggle = now + env_.random.between(c.toggle_every_min, c.toggle_every_max);
  }

  // Makes the trigger; a request whose reply was lost may have made it, which the user's list
  // of triggers tells (its name is unique in the project).
  Task<void> make(MadeTrigger& trigger) {
    Json body{{"name", trigger.wanted.name},
              {"workflow", book_->workflow_name},
              {"project_id", book_->project_id},
              {"schedule", trigger.wanted.schedule}};
    if (!trigger.wanted.params.empty()) body["params"] = trigger.wanted.params;
    Task<Result<ApiReply>> making = call("POST", "/api/v1/triggers", Json::object(), body.dump());
    Result<ApiReply> made = co_await making;
    if (made && made->status == 201) {
      const Json reply = Json::parse(made->body, nullptr, false);
      const Json view = reply.is_object() ? reply.value("trigger", Json::object()) : Json();
      if (view.is_object() && !view.value("id", "").empty()) {
        settle(trigger, view.value("id", ""), view.value("enabled", true));
        ++book_->created;
        co_return;
      }
    }
    Task<Result<ApiReply>> listing =
        call("GET", "/api/v1/triggers", Json{{"project_id", book_->project_id}}, "");
    Result<ApiReply> listed = co_await listing;
    if (!listed || listed->status != 200) co_return;
    const Json reply = Json::parse(listed->body, nullptr, false);
    for (const auto& view : reply.is_object() ? reply.value("triggers", Json::array()) : Json()) {
      if (view.value("name", "") != trigger.wanted.name) continue;
      settle(trigger, view.value("id", ""), view.value("enabled", true));
      ++book_->found;
    }
  }

  void settle(MadeTrigger& trigger, std::string id, bool enabled) {
    trigger.id = std::move(id);
    trigger.settled = enabled == trigger.enabled;
    if (trigger.settled) trigger.settled_at = world_.now();
  }

  Task<void> set_enabled(MadeTrigger& trigger) {
    const std::string verb = trigger.enabled ? "enable" : "disable";
    Task<Result<ApiReply>> setting =
        call("POST", "/api/v1/triggers/" + trigger.id + "/" + verb, Json::object(), "{}");
    Result<ApiReply> set = co_await setting;
    if (!set || set->status != 200) co_return;  // sent again next round
    trigger.settled = true;
    trigger.settled_at = world_.now();
    ++book_->toggled;
  }

  Env& env_;
  const World& world_;
  TriggerClientBook* book_;
  Scope scope_;  // last: destroyed first
};

}  // namespace

std::shared_ptr<void> make_trigger_client(Env& env, const World& world, TriggerClientBook* book) {
  return std::make_shared<TriggerClient>(env, world, book);
}

}  // namespace reliant::sim
