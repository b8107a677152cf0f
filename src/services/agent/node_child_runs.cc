// node.workflow: a sub-workflow by reference (builtin://NAME, project://NAME) runs as a child
// run of the engine. This activity only starts it — one transaction — and answers at once that
// the child runs (workflow::kChildRunStartedKey); the node then waits as durable state, not as
// a held worker slot, until the child's end reaches the parent as engine::kChildEndedSignal
// (engine_sql's close_run), and a parent that ends first cancels it there too. The child's id
// is derived from the parent's step, so a retried attempt finds the child the first one
// started instead of starting another. Children nest at most workflow::kChildRunDepthMax deep.
#include "core/workflow/engine_workflow.h"
#include "core/workflow/node_types.h"
#include "core/workflow/preset_inputs.h"
#include "services/agent/node_activities.h"
#include "services/agent/node_support.h"
#include "services/agent/step_support.h"
#include "services/engine/engine_sql.h"
#include "services/storage/preset_library.h"
#include "services/storage/project_workflows.h"
#include "services/worker/worker.h"

namespace reliant::agent {
namespace {

using engine::ActivityContext;
using Json = nlohmann::json;

constexpr std::string_view kBuiltinScheme = "builtin://";
constexpr std::string_view kProjectScheme = "project://";

// What the start transaction found: a child it started or that runs already (the node waits
// for its end), or one that ended already — before this version of the engine, a parent's
// attempt waited for its child itself — whose outcome is the node's answer now.
struct ChildFound {
  bool running = true;
  engine::RunSummary ended;
};

// The child's context: the parent's, talking on the node's thread, naming its own threads under
// the node's key so they stay apart from the parent's. The node's evaluated selector (its own, an
// enclosing node's or its workflow's) is the child's default: where the child's nodes and
// workflow write none, its tools run there.
Json child_context(const NodeInput& node, const std::string& run_id, std::int64_t depth,
                   const std::string& child_id) {
  Json context = node.run;
  context["parent_run_id"] = run_id;
  context["parent_node"] = node.key;
  context["depth"] = depth;
  context["thread"] = node.thread_ref.id;
  context["thread_prefix"] = node.run.value("thread_prefix", "") + node.key + "/";
  context["workflow"] = Json{{"id", child_id}};
  if (!node.daemon.is_null()) context["daemon"] = node.daemon;
  return context;
}

// The child's inputs: the node's args it declares (a caller written for another version of the
// child passes more than it takes), with the node's `presets:` (else the child's own default
// presets) under them.
Result<Json> child_inputs(SqlTransaction& tx, const NodeInput& node,
                          const workflow::Definition& definition) {
  Json inputs = Json::object();
  for (const auto& spec : definition.inputs) {
    if (node.args.contains(spec.name)) inputs[spec.name] = node.args[spec.name];
  }
  auto library = PresetLibrary::load(tx, node.user_id, node.project_id);
  if (!library) return fail(library.error());
  auto under = workflow::inputs_under_presets(
      definition, std::move(inputs), node.args.value("presets", Json()), library->finder());
  if (!under) return fail(node_error(node, node.ref + ": " + under.error()));
  return std::move(*under);
}

class ChildRunNode final : public engine::Activity {
 public:
  explicit ChildRunNode(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::workflow).activity;
  }

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
    // How deep the parent is: 0 for a run nobody started. Read with care: a throw out of an
    // activity would end the process.
    const auto parent_depth = node.run.find("depth");
    const std::int64_t depth = (parent_depth != node.run.end() && parent_depth->is_number_integer()
                                    ? parent_depth->get<std::int64_t>()
                                    : 0) +
                               1;
    if (depth > workflow::kChildRunDepthMax) {
      co_return fail(node_error(node, "ref \"" + node.ref + "\" would nest child runs " +
                                          std::to_string(depth) + " deep; runs nest at most " +
                                          std::to_string(workflow::kChildRunDepthMax) +
                                          " deep (does the workflow call itself?)"));
    }

    request.context = child_context(node, run_id, depth, child_id);
    const engine::ParentRun parent{run_id, node.key};

    auto start = [this, node, request, project_workflow, child_id, run_id, now_ms, parent,
                  dialect =
                      deps_.store.dialect()](SqlTransaction& tx) mutable -> Result<ChildFound> {
      auto existing = engine::get_run(tx, child_id);
      if (existing) {
        // An earlier attempt started it. A child started before parents waited as state has no
        // parent to tell: it is adopted while it runs, and answered here once it ended.
        if (existing->terminal()) return ChildFound{false, std::move(*existing)};
        auto adopted = engine::adopt_child_run(tx, child_id, parent);
        if (!adopted) return fail(adopted.error());
        if (*adopted) return ChildFound{};
        auto reread = engine::get_run(tx, child_id);
        if (!reread) return fail(reread.error());
        return ChildFound{!reread->terminal(), std::move(*reread)};
      }
      if (existing.error().code != ErrorCode::not_found) return fail(existing.error());
      if (!project_workflow.empty()) {
        auto stored = get_project_workflow(tx, node.user_id, node.project_id, project_workflow);
        if (!stored) return fail(node_error(node, stored.error().message));
        request.source = stored->source;
        request.file = project_workflow + ".yaml";
      }
      auto definition = workflow::load_run_definition(request);
      if (!definition) return fail(node_error(node, definition.error().message));
      auto inputs = child_inputs(tx, node, **definition);
      if (!inputs) return fail(inputs.error());
      request.inputs = std::move(*inputs);
      request.context["workflow"]["name"] = (*definition)->name;
      if (!node.chat_id.empty()) {
        if (auto ok = ensure_node_thread(tx, dialect, node, run_id, now_ms); !ok)
          return fail(ok.error());
      }
      engine::NewRun child{child_id, deps_.queue, std::string(workflow::kEngineWorkflowName),
                           workflow::to_json(request), parent};
      if (auto ok = engine::start_run(tx, dialect, child, now_ms); !ok) return fail(ok.error());
      return ChildFound{};
    };
    Task<Result<ChildFound>> starting = deps_.store.transact_for(std::move(start));
    Result<ChildFound> found = co_await starting;
    if (!found) co_return fail(found.error());
    if (found->running) {
      if (deps_.bus != nullptr) (void)deps_.bus->publish(engine::wake_subject(deps_.queue), "");
      co_return Json{{std::string(workflow::kChildRunStartedKey), child_id}};
    }
    const engine::RunSummary& child = found->ended;
    if (child.status != engine::RunStatus::completed) {
      co_return fail(node_error(node, "child run " + child_id + " " +
                                          std::string(engine::to_string(child.status)) + ": " +
                                          child.error.value_or("")));
    }
    co_return workflow::child_outputs(child.result.value_or(Json()), child_id);
  }

 private:
  AgentDeps deps_;
};

}  // namespace

void register_child_run_activity(engine::ActivityRegistry& registry, const AgentDeps& deps) {
  registry.add(std::make_unique<ChildRunNode>(deps));
}

}  // namespace reliant::agent
