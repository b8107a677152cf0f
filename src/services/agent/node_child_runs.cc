// node.workflow: a sub-workflow by reference (builtin://NAME, project://NAME) runs as a child
// run of the engine, and the node waits for it. The child's id is derived from the parent's step,
// so a retried attempt finds the child the first one started instead of starting another; a
// parent whose attempt is abandoned (the run was cancelled) cancels the child.
#include "core/workflow/engine_workflow.h"
#include "runtime/sleep.h"
#include "services/agent/node_activities.h"
#include "services/agent/node_support.h"
#include "services/agent/step_support.h"
#include "services/engine/engine_sql.h"
#include "services/storage/project_workflows.h"
#include "services/worker/worker.h"

namespace reliant::agent {
namespace {

using engine::ActivityContext;
using Json = nlohmann::json;

constexpr std::string_view kBuiltinScheme = "builtin://";
constexpr std::string_view kProjectScheme = "project://";
// How often a parent looks at its child: a child's nodes take seconds at least.
constexpr Duration kChildPollInterval = seconds(1);

Task<void> cancel_child(Store* store, std::string run_id) {
  const SqlDialect dialect = store->dialect();
  Task<Result<void>> cancelling = store->transact_for([run_id, dialect](SqlTransaction& tx) {
    return engine::cancel_run(tx, dialect, run_id, "its parent run was cancelled", 0);
  });
  Result<void> cancelled = co_await cancelling;
  (void)cancelled;  // best effort: a child that already ended has nothing to stop
}

class ChildRunNode final : public engine::Activity {
 public:
  explicit ChildRunNode(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override { return "node.workflow"; }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    auto parsed = node_input(input);
    if (!parsed) co_return fail(parsed.error());
    const NodeInput node = std::move(*parsed);
    workflow::RunRequest request;
    request.user_id = node.user_id;
    std::string project_workflow;
    if (node.ref.starts_with(kBuiltinScheme)) {
      request.ref = node.ref;
    } else if (node.ref.starts_with(kProjectScheme)) {
      project_workflow = node.ref.substr(kProjectScheme.size());
      if (node.project_id.empty()) {
        co_return fail(node_error(node, node.ref + ": the run belongs to no project"));
      }
    } else {
      co_return fail(node_error(node, "ref \"" + node.ref +
                                          "\": a run starts builtin:// and project:// workflows "
                                          "(file:// refs run in the scenario runner only)"));
    }
    const std::string child_id = context.run_id + "-" + std::to_string(context.scheduled_seq);
    const std::string run_id = context.run_id;
    const std::int64_t now_ms = to_ms(context.executor.now());

    // The child's context: the parent's, talking on the node's thread, naming its own threads
    // under the node's key so they stay apart from the parent's.
    request.context = node.run;
    request.context["parent_run_id"] = run_id;
    request.context["parent_node"] = node.key;
    request.context["thread"] = node.thread_ref.id;
    request.context["thread_prefix"] = node.run.value("thread_prefix", "") + node.key + "/";
    request.context["workflow"] = Json{{"id", child_id}};

    auto start = [this, node, request, project_workflow, child_id, run_id, now_ms,
                  dialect = deps_.store.dialect()](SqlTransaction& tx) mutable -> Result<bool> {
      auto existing = engine::get_run(tx, child_id);
      if (existing) return false;  // an earlier attempt started it
      if (existing.error().code != ErrorCode::not_found) return fail(existing.error());
      if (!project_workflow.empty()) {
        auto stored = get_project_workflow(tx, node.user_id, node.project_id, project_workflow);
        if (!stored) return fail(node_error(node, stored.error().message));
        request.source = stored->source;
        request.file = project_workflow + ".yaml";
      }
      auto definition = workflow::load_run_definition(request);
      if (!definition) return fail(node_error(node, definition.error().message));
      // The node's args are the child's inputs; those it does not declare are left out (a
      // caller written for another version of the child passes more than it takes).
      Json inputs = Json::object();
      for (const auto& spec : (*definition)->inputs) {
        if (node.args.contains(spec.name)) inputs[spec.name] = node.args[spec.name];
      }
      request.inputs = std::move(inputs);
      request.context["workflow"]["name"] = (*definition)->name;
      if (!node.chat_id.empty()) {
        if (auto ok = ensure_node_thread(tx, dialect, node, run_id, now_ms); !ok)
          return fail(ok.error());
      }
      if (auto ok = engine::start_run(
              tx, dialect,
              engine::NewRun{child_id, deps_.queue, std::string(workflow::kEngineWorkflowName),
                             workflow::to_json(request)},
              now_ms);
          !ok) {
        return fail(ok.error());
      }
      return true;
    };
    Task<Result<bool>> starting = deps_.store.transact_for(std::move(start));
    Result<bool> started = co_await starting;
    if (!started) co_return fail(started.error());
    if (*started && deps_.bus != nullptr) {
      (void)deps_.bus->publish(engine::wake_subject(deps_.queue), "");
    }

    // A parent whose attempt goes before the child ended (its run was cancelled) cancels it.
    UndoIfAbandoned abandoned{context.cleanup, [store = &deps_.store, child_id] {
                                return cancel_child(store, child_id);
                              }};
    Scope beating(context.executor);
    beating.spawn(keep_alive(context.executor, context.heartbeat));
    for (;;) {
      Task<Result<engine::RunSummary>> reading = deps_.store.transact_for(
          [child_id](SqlTransaction& tx) { return engine::get_run(tx, child_id); });
      Result<engine::RunSummary> child = co_await reading;
      if (!child) co_return fail(child.error());
      if (child->terminal()) {
        abandoned.settled = true;
        if (child->status != engine::RunStatus::completed) {
          co_return fail(node_error(node, "child run " + child_id + " " +
                                              std::string(engine::to_string(child->status)) + ": " +
                                              child->error.value_or("")));
        }
        Json outputs =
            child->result ? child->result->value("outputs", Json::object()) : Json::object();
        if (!outputs.is_object()) outputs = Json{{"value", outputs}};
        outputs["run_id"] = child_id;
        co_return outputs;
      }
      co_await sleep(context.executor, kChildPollInterval);
    }
  }

 private:
  AgentDeps deps_;
};

}  // namespace

void register_child_run_activity(engine::ActivityRegistry& registry, const AgentDeps& deps) {
  registry.add(std::make_unique<ChildRunNode>(deps));
}

}  // namespace reliant::agent
