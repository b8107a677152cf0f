// The workflow loader: yaml-cpp's tree to a Definition, with every mistake located.
#include "core/workflow/loader.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "base/utf8.h"
#include "core/cel/parser.h"
#include "core/cel/timestamps.h"
#include "core/daemon_selection.h"
#include "core/workflow/bounded_yaml.h"
#include "core/workflow/inputs.h"
#include "core/workflow/loader_policies.h"
#include "core/workflow/node_types.h"
#include "core/workflow/preset.h"
#include "core/workflow/tool_filter.h"
#include "core/workflow/trigger_declarations.h"
#include "core/workflow/yaml_reading.h"
#include "core/workflow/yaml_values.h"

namespace reliant::workflow {
namespace {

using Keys = KeySet;

const Keys kTopKeys = {"name",    "description", "apiVersion",      "presets",   "inputs",
                       "outputs", "entry",       "daemon",          "nodes",     "edges",
                       "ui",      "triggers",    "automation_only", "on_failure"};
const Keys kBodyKeys = {"name", "description", "entry", "nodes", "edges", "outputs", "ui"};
const Keys kNodeKeys = {"id",      "type",         "name",   "description", "args", "condition",
                        "timeout", "save_message", "daemon", "thread",      "ui",   "on_failure"};
const Keys kThreadKeys = {"mode", "memo", "inject"};
const Keys kEdgeKeys = {"from", "to", "cases", "default", "condition", "label"};
const Keys kCaseKeys = {"to", "condition", "label"};
const Keys kInputKeys = {"type",    "default",  "min",         "max",        "enum",
                         "multi",   "required", "description", "ui",         "tags",
                         "presets", "inputs",   "label",       "placeholder"};

// Keys a node type takes at its top level besides the common ones. Those marked `args` are
// merged into the node's args (`command:` on a run node is its args.command).
struct TypeKeys {
  Keys structural;  // read by the loader itself
  Keys args;        // merged into args
};

const TypeKeys& type_keys(NodeType type) {
  static const std::vector<TypeKeys> keys = [] {
    std::vector<TypeKeys> out;
    for (const auto& info : node_types()) {
      TypeKeys each;
      for (const auto key : info.structural_keys) each.structural.emplace(key);
      for (const auto key : info.arg_keys) each.args.emplace(key);
      out.push_back(std::move(each));
    }
    return out;
  }();
  return keys.at(static_cast<std::size_t>(type));
}

// "call_llm, execute_tools, … or workflow": every type, for a message about an unknown one.
std::string type_names() {
  std::string out;
  for (std::size_t i = 0; i < node_types().size(); ++i) {
    if (i > 0) out += i + 1 == node_types().size() ? " or " : ", ";
    out += node_types()[i].name;
  }
  return out;
}

class Loader : public YamlReader {
 public:
  cel::TimeZoneLoader zones;  // for schedules' time zones; null: names checked for form only
  // Ids of nodes that failed to load: edges and entries naming them are not reported again.
  std::set<std::string, std::less<>> broken_ids;

  std::optional<ThreadSpec> thread_at(const YAML::Node& node) {
    if (!node.IsMap()) {
      error(node, "thread must be a map with mode, memo and inject");
      return std::nullopt;
    }
    check_keys(node, kThreadKeys, "thread");
    ThreadSpec spec;
    if (const auto mode = child(node, "mode")) {
      const auto text = mode.IsScalar() ? mode.Scalar() : "";
      if (text == "inherit") {
        spec.mode = ThreadMode::inherit;
      } else if (text == "new") {
        spec.mode = ThreadMode::fresh;
      } else if (text == "fork") {
        spec.mode = ThreadMode::fork;
      } else {
        error(mode, "thread.mode must be inherit, new or fork");
      }
    }
    if (const auto memo = child(node, "memo")) {
      const auto value = scalar_value(memo);
      if (!value.is<bool>()) {
        error(memo, "thread.memo must be true or false");
      } else {
        spec.memo = *value.get_if<bool>();
      }
    }
    if (const auto inject = child(node, "inject")) spec.inject = tree_at(inject, "thread.inject");
    return spec;
  }

  void merge_arg(NodeSpec& spec, const std::string& key, const YAML::Node& value) {
    if (spec.args.kind != TemplateTree::Kind::map) {
      spec.args = TemplateTree{};
      spec.args.kind = TemplateTree::Kind::map;
    }
    if (spec.args.field(key) != nullptr) {
      error(value, "\"" + key + "\" is given both at the node and in its args");
      return;
    }
    spec.args.fields.push_back({key, tree_at(value, "args." + key)});
  }

  // Whether any scalar under `node` holds a {{ }} template: its value is known only in a run.
  static bool has_template(const YAML::Node& node) {
    if (node.IsScalar()) return node.Scalar().find("{{") != std::string::npos;
    if (node.IsSequence()) {
      for (const auto& item : node) {
        if (has_template(item)) return true;
      }
    }
    if (node.IsMap()) {
      for (const auto& entry : node) {
        if (has_template(entry.second)) return true;
      }
    }
    return false;
  }

  // `presets:` and a model call's tool filter, when written out rather than computed: checked
  // now (a computed one is checked when the node runs).
  void check_literal_arg(NodeType type, const std::string& key, const YAML::Node& value,
                         const std::string& what) {
    if (has_template(value)) return;
    if (key == "presets") {
      if (auto wrong = preset_pick_error(to_json(value))) error(value, what + ": " + *wrong);
      return;
    }
    const bool filters = type == NodeType::call_llm || type == NodeType::execute_tools;
    // A model call's `tools: true|false` offers the default tools or none.
    if (filters && key == "tools" && value.IsScalar() && scalar_value(value).is<bool>()) return;
    if (filters && (key == "tool_filter" || key == "tools")) {
      if (auto filter = parse_tool_filter(to_json(value)); !filter)
        error(value, what + ": " + key + ": " + filter.error());
    }
  }

  // `args:` and the type's own keys that are args (`command:` …), into spec.args.
  void args_at(const YAML::Node& node, const Keys& arg_keys, const std::string& what,
               NodeSpec& spec) {
    // A bare `args:` (YAML null) is no args, as an empty map is.
    if (const auto args = child(node, "args"); args && !args.IsNull()) {
      if (!args.IsMap()) {
        error(args, what + ": args must be a map");
      } else {
        spec.args = tree_at(args, "args");
        for (const auto& entry : args)
          check_literal_arg(spec.type, entry.first.Scalar(), entry.second, what);
      }
    }
    for (const auto& key : arg_keys) {
      if (const auto value = child(node, key)) {
        merge_arg(spec, key, value);
        check_literal_arg(spec.type, key, value, what);
      }
    }
  }

  std::optional<NodeSpec> node_at(const YAML::Node& node, std::string id, const YAML::Node& id_at,
                                  std::optional<NodeType> shorthand, int depth) {
    NodeSpec spec;
    spec.id = std::move(id);
    spec.mark = mark_of(id_at);
    const std::string what = "node \"" + spec.id + "\"";
    if (shorthand) {
      spec.type = *shorthand;
    } else {
      const auto type = child(node, "type");
      if (!type) {
        error(node, what + " has no type");
        return std::nullopt;
      }
      const auto named = type.IsScalar() ? node_type_named(type.Scalar()) : std::nullopt;
      if (!named) {
        error(type, what + ": unknown node type \"" + (type.IsScalar() ? type.Scalar() : "") +
                        "\" (expected " + type_names() + ")");
        return std::nullopt;
      }
      spec.type = *named;
    }
    const auto& own = type_keys(spec.type);
    Keys extra = own.structural;
    extra.insert(own.args.begin(), own.args.end());
    if (!shorthand) check_keys(node, kNodeKeys, what, extra);

    args_at(node, own.args, what, spec);
    // An approval's `description` is its prompt, not the node's.
    if (spec.type == NodeType::approval || spec.type == NodeType::ask_question) {
      if (const auto value = child(node, "description")) merge_arg(spec, "description", value);
    }
    if (const auto condition = child(node, "condition")) {
      if (spec.type == NodeType::join) {
        const auto text = condition.IsScalar() ? condition.Scalar() : "";
        if (text == "all") {
          spec.join = JoinMode::all;
        } else if (text == "any") {
          spec.join = JoinMode::any;
        } else {
          error(condition, what + ": a join's condition is \"all\" or \"any\"");
        }
      } else {
        spec.condition = expression_at(condition, what + " condition");
      }
    }
    if (const auto timeout = child(node, "timeout")) {
      const auto text = string_at(timeout, what + " timeout");
      if (text && !cel::parse_duration(*text)) {
        error(timeout,
              what + ": timeout \"" + *text + "\" is not a duration such as 30s, 10m or 1h");
      } else if (text) {
        spec.timeout = *text;
      }
    }
    if (const auto save = child(node, "save_message")) {
      if (!save.IsMap()) {
        error(save, what + ": save_message must be a map (role, content …)");
      } else {
        spec.save_message = tree_at(save, "save_message");
      }
    }
    if (const auto daemon = child(node, "daemon")) spec.daemon = daemon_at(daemon, what);
    if (const auto thread = child(node, "thread")) spec.thread = thread_at(thread);
    if (const auto ref = child(node, "ref")) {
      if (auto text = string_at(ref, what + " ref")) {
        if (!text->starts_with("builtin://") && !text->starts_with("project://") &&
            !text->starts_with("file://")) {
          error(ref, what + ": ref must start with builtin://, project:// or file://");
        }
        spec.ref = *text;
      }
    }
    if (const auto body = child(node, "inline")) {
      if (depth >= kNestingMax) {
        error(body, what + ": inline workflows nest deeper than " + std::to_string(kNestingMax));
      } else if (!body.IsMap()) {
        error(body, what + ": inline must be a map (entry, nodes, edges, outputs)");
      } else {
        check_keys(body, kBodyKeys, what + " inline");
        spec.body = graph_at(body, depth + 1, what + " inline");
      }
    }
    if (const auto loop_while = child(node, "while"))
      spec.loop_while = expression_at(loop_while, what + " while");
    if (const auto items = child(node, "items")) spec.items = expression_at(items, what + " items");
    if (const auto parallel = child(node, "parallel")) {
      const auto value = scalar_value(parallel);
      if (const auto* b = value.get_if<bool>()) {
        spec.parallel = *b ? kParallelAll : 1;
      } else if (const auto* n = value.get_if<std::int64_t>(); n != nullptr && *n >= 1) {
        spec.parallel = static_cast<std::size_t>(*n);
      } else {
        error(parallel, what + ": parallel must be true, false or a count of at least 1");
      }
    }
    read_failure_keys(node, what, spec, errors);
    check_shape(spec, node, what);
    return spec;
  }

  static constexpr std::size_t kParallelAll = 1'000'000;

  void check_shape(const NodeSpec& spec, const YAML::Node& node, const std::string& what) {
    switch (spec.type) {
      case NodeType::loop:
        if (spec.body == nullptr && spec.ref.empty())
          error(node, what + ": a loop needs inline or ref");
        if (!spec.loop_while && !spec.items) error(node, what + ": a loop needs while or items");
        if (spec.body != nullptr && !spec.ref.empty())
          error(node, what + ": inline and ref exclude each other");
        break;
      case NodeType::workflow:
        if (spec.body == nullptr && spec.ref.empty())
          error(node, what + ": a workflow node needs ref or inline");
        if (spec.body != nullptr && !spec.ref.empty())
          error(node, what + ": inline and ref exclude each other");
        break;
      case NodeType::group:
        if (spec.body == nullptr) error(node, what + ": a group needs inline");
        break;
      case NodeType::run:
        if (spec.args.field("command") == nullptr)
          error(node, what + ": a run node needs a command");
        break;
      default:
        break;
    }
  }

  std::optional<TemplateTree> daemon_at(const YAML::Node& node, const std::string& what) {
    auto tree = tree_at(node, what + " daemon");
    if (tree.kind == TemplateTree::Kind::text && tree.text->has_holes()) return tree;
    // A literal selector is checked now, with the same rules selection applies.
    auto literal = evaluate(tree, cel::Activation{});
    if (!literal) return tree;
    if (auto parsed = parse_daemon_selector(cel::to_json(*literal)); !parsed) {
      error(node, what + ": daemon: " + parsed.error().message);
      return std::nullopt;
    }
    return tree;
  }

  std::vector<NodeSpec> nodes_at(const YAML::Node& nodes, int depth, Graph& graph) {
    std::vector<NodeSpec> out;
    if (nodes.IsSequence()) {
      for (const auto& node : nodes) {
        if (!node.IsMap()) {
          error(node, "a node must be a map with id and type");
          continue;
        }
        const auto id = child(node, "id");
        if (!id || !id.IsScalar() || id.Scalar().empty()) {
          error(node, "a node has no id");
          continue;
        }
        if (auto spec = node_at(node, id.Scalar(), id, std::nullopt, depth)) {
          out.push_back(std::move(*spec));
        } else {
          broken_ids.insert(id.Scalar());
        }
      }
      return out;
    }
    if (!nodes.IsMap()) {
      error(nodes, "nodes must be a list (or a map of id to node)");
      return out;
    }
    // Seed 000's map form: `id: {type: …}`, or `id: {agent: {…}}` and the like, where the key
    // names the node type (`agent` is a workflow node running builtin://agent).
    for (const auto& entry : nodes) {
      const auto id = entry.first.Scalar();
      const auto& body = entry.second;
      if (!body.IsMap()) {
        error(entry.first, "node \"" + id + "\" must be a map");
        continue;
      }
      if (child(body, "type")) {
        if (auto spec = node_at(body, id, entry.first, std::nullopt, depth))
          out.push_back(std::move(*spec));
        continue;
      }
      std::optional<NodeSpec> spec;
      const auto errors_before = errors.size();
      bool named = false;
      for (const auto& field : body) {
        const auto key = field.first.Scalar();
        if (kNodeKeys.contains(key)) continue;
        if (named) {
          error(field.first, "node \"" + id + "\" names a second kind: \"" + key + "\"");
          break;
        }
        named = true;
        const auto type = key == "agent" ? std::optional(NodeType::workflow) : node_type_named(key);
        if (!type) {
          error(field.first, "node \"" + id + "\": unknown key \"" + key +
                                 "\" (a node type such as agent, call_llm, run)");
          break;
        }
        // The list form of the same node: common keys as they are, the kind's own keys
        // (ref, while …) at the top, everything else under args.
        YAML::Node shaped(YAML::NodeType::Map);
        for (const auto& common : body) {
          const auto name = common.first.Scalar();
          if (kNodeKeys.contains(name)) shaped[name] = common.second;
        }
        if (field.second.IsMap()) {
          const auto& own = type_keys(*type);
          for (const auto& inner : field.second) {
            const auto name = inner.first.Scalar();
            if (own.structural.contains(name)) {
              shaped[name] = inner.second;
            } else {
              shaped["args"][name] = inner.second;
            }
          }
        } else if (!field.second.IsNull()) {
          error(field.second, "node \"" + id + "\": " + key + " must be a map");
        }
        if (key == "agent") shaped["ref"] = "builtin://agent";
        spec = node_at(shaped, id, entry.first, type, depth);
      }
      if (spec && errors.size() == errors_before) {
        out.push_back(std::move(*spec));
      } else if (!named) {
        error(entry.first, "node \"" + id + "\" names no node type");
      }
    }
    graph.implicit_chain = true;
    return out;
  }

  EdgeCase case_at(const YAML::Node& node) {
    EdgeCase c;
    c.mark = mark_of(node);
    if (!node.IsMap()) {
      error(node, "an edge case must be a map with to, condition and label");
      return c;
    }
    check_keys(node, kCaseKeys, "edge case");
    if (const auto to = child(node, "to"))
      c.to = ids_at(to, "edge case to");
    else
      error(node, "an edge case has no \"to\"");
    if (const auto condition = child(node, "condition"))
      c.condition = expression_at(condition, "edge condition");
    if (const auto label = child(node, "label"))
      c.label = string_at(label, "edge label").value_or("");
    return c;
  }

  // One node id or a list of them: an edge's target (all of them start) or a graph's entry.
  std::vector<std::string> ids_at(const YAML::Node& node, const std::string& what) {
    std::vector<std::string> out;
    if (!node.IsSequence()) {
      if (auto id = string_at(node, what)) out.push_back(std::move(*id));
      return out;
    }
    if (node.size() == 0) error(node, what + " is an empty list");
    for (const auto& target : node) {
      if (auto id = string_at(target, what)) out.push_back(std::move(*id));
    }
    return out;
  }

  std::vector<EdgeSpec> edges_at(const YAML::Node& edges) {
    std::vector<EdgeSpec> out;
    if (!edges.IsSequence()) {
      error(edges, "edges must be a list");
      return out;
    }
    for (const auto& node : edges) {
      if (!node.IsMap()) {
        error(node, "an edge must be a map with from and to (or cases)");
        continue;
      }
      check_keys(node, kEdgeKeys, "edge");
      EdgeSpec edge;
      edge.mark = mark_of(node);
      if (const auto from = child(node, "from"))
        edge.from = string_at(from, "edge from").value_or("");
      else
        error(node, "an edge has no \"from\"");
      if (const auto to = child(node, "to")) {
        EdgeCase c;
        c.mark = mark_of(to);
        c.to = ids_at(to, "edge to");
        if (const auto condition = child(node, "condition"))
          c.condition = expression_at(condition, "edge condition");
        if (const auto label = child(node, "label"))
          c.label = string_at(label, "edge label").value_or("");
        edge.cases.push_back(std::move(c));
      }
      if (const auto cases = child(node, "cases")) {
        if (!cases.IsSequence()) {
          error(cases, "cases must be a list");
        } else {
          for (const auto& c : cases) edge.cases.push_back(case_at(c));
        }
      }
      const auto fallback = child(node, "default");
      if (fallback) edge.fallback = ids_at(fallback, "edge default");
      if (edge.cases.empty() && !fallback) error(node, "an edge needs to, cases or default");
      out.push_back(std::move(edge));
    }
    return out;
  }

  std::shared_ptr<const Graph> graph_at(const YAML::Node& map, int depth, const std::string& what) {
    auto graph = std::make_shared<Graph>();
    const auto nodes = child(map, "nodes");
    if (!nodes || nodes.IsNull()) {
      error(map, what + " has no nodes");
      return graph;
    }
    graph->nodes = nodes_at(nodes, depth, *graph);
    if (graph->nodes.size() > kNodesMax)
      error(nodes, what + " has more than " + std::to_string(kNodesMax) + " nodes");
    if (const auto edges = child(map, "edges"); edges && !edges.IsNull())
      graph->edges = edges_at(edges);
    if (const auto outputs = child(map, "outputs"); outputs && !outputs.IsNull()) {
      if (!outputs.IsMap()) {
        error(outputs, "outputs must be a map of name to template");
      } else {
        for (const auto& entry : outputs) {
          const auto key = entry.first.Scalar();
          if (depth > 0) check_output_name(entry.first, errors);
          graph->outputs.emplace_back(key, tree_at(entry.second, "outputs." + key));
        }
      }
    }
    if (const auto ui = child(map, "ui")) graph->ui = to_json(ui);
    const auto entry = child(map, "entry");
    if (entry) {
      graph->entries = ids_at(entry, "entry");
    } else if (graph->implicit_chain) {
      if (!graph->nodes.empty()) graph->entries.push_back(graph->nodes.front().id);
    } else {
      error(map, what + " has no entry (the id of its first node)");
    }
    check_graph(*graph, entry ? mark_of(entry) : mark_of(map), what);
    return graph;
  }

  void check_graph(Graph& graph, Mark entry_mark, const std::string& what) {
    std::set<std::string, std::less<>> ids = broken_ids;
    for (const auto& node : graph.nodes) {
      if (!ids.insert(node.id).second)
        error(node.mark, "node id \"" + node.id + "\" is used twice");
    }
    for (const auto& entry : graph.entries) {
      if (!entry.empty() && !ids.contains(entry)) {
        error(entry_mark, what + ": entry \"" + entry + "\" is not a node");
      }
    }
    bool edges_ok = true;
    auto known = [&](const std::string& id, Mark at, std::string_view role) {
      if (ids.contains(id)) return;
      edges_ok = false;
      error(at, "edge " + std::string(role) + " unknown node \"" + id + "\"");
    };
    for (const auto& edge : graph.edges) {
      if (!edge.from.empty()) known(edge.from, edge.mark, "from");
      for (const auto& c : edge.cases) {
        for (const auto& to : c.to) known(to, c.mark, "to");
      }
      for (const auto& to : edge.fallback) known(to, edge.mark, "to");
    }
    if (!errors.empty() || !edges_ok) return;
    if (graph.implicit_chain && graph.edges.empty()) {
      for (std::size_t i = 0; i + 1 < graph.nodes.size(); ++i) {
        EdgeSpec edge;
        edge.from = graph.nodes[i].id;
        edge.fallback = {graph.nodes[i + 1].id};
        edge.mark = graph.nodes[i].mark;
        graph.edges.push_back(std::move(edge));
      }
    }
    graph.finish();
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      if (graph.reaches[i][i]) {
        error(graph.nodes[i].mark, "node \"" + graph.nodes[i].id +
                                       "\" is on a cycle of edges; repeat work with a loop node");
        return;
      }
    }
  }

  // What an input keeps for clients (its form's ui, tags, presets …); `presets:` is checked.
  void kept_for_clients(const YAML::Node& body, const std::string& what, InputSpec& spec) {
    for (const auto* key : {"ui", "tags", "presets", "label", "placeholder"}) {
      if (const auto value = child(body, key)) spec.extra[key] = to_json(value);
    }
    if (const auto presets = child(body, "presets")) {
      if (auto choice = preset_choice(to_json(presets)); !choice)
        error(presets, what + ": " + choice.error());
    }
  }

  std::vector<InputSpec> inputs_at(const YAML::Node& inputs, bool nested) {
    std::vector<InputSpec> out;
    if (!inputs.IsMap()) {
      error(inputs, "inputs must be a map of name to input");
      return out;
    }
    for (const auto& entry : inputs) {
      InputSpec spec;
      spec.name = entry.first.Scalar();
      spec.mark = mark_of(entry.first);
      const auto& body = entry.second;
      const std::string what = "input \"" + spec.name + "\"";
      if (!body.IsMap()) {
        error(entry.first, what + " must be a map with a type");
        continue;
      }
      check_keys(body, kInputKeys, what);
      const auto type = child(body, "type");
      const auto named = type && type.IsScalar() ? input_type_named(type.Scalar()) : std::nullopt;
      if (!named) {
        error(type ? type : entry.first, what +
                                             ": type must be string, integer, number, boolean, "
                                             "enum, array, object, model, tools, preset or group");
        continue;
      }
      spec.type = *named;
      if (spec.type == InputType::group && nested) error(type, what + ": groups do not nest");
      if (const auto d = child(body, "description"))
        spec.description = d.IsScalar() ? d.Scalar() : "";
      for (const auto* bound : {"min", "max"}) {
        if (const auto b = body[bound]) {
          const auto value = scalar_value(b);
          auto number = as_double(value);
          if (!number)
            error(b, what + ": " + bound + " must be a number");
          else
            (std::string_view(bound) == "min" ? spec.min : spec.max) = *number;
        }
      }
      if (const auto choices = child(body, "enum")) {
        if (!choices.IsSequence())
          error(choices, what + ": enum must be a list");
        else
          for (const auto& c : choices) spec.choices.push_back(to_json(c));
      }
      if (const auto multi = child(body, "multi"))
        spec.multi = scalar_value(multi) == cel::Value(true);
      if (const auto required = child(body, "required"))
        spec.required = scalar_value(required) == cel::Value(true);
      if (const auto fields = child(body, "inputs")) {
        if (spec.type != InputType::group)
          error(fields, what + ": only a group has inputs");
        else
          spec.fields = inputs_at(fields, true);
      }
      kept_for_clients(body, what, spec);
      if (const auto d = child(body, "default")) {
        spec.default_value = to_json(d);
        if (auto checked = check_input_value(spec, *spec.default_value); !checked) {
          error(d, what + ": default " + checked.error());
        }
      }
      out.push_back(std::move(spec));
    }
    return out;
  }

  Definition definition_at(const YAML::Node& root) {
    Definition d;
    check_keys(root, kTopKeys, "the workflow");
    if (const auto name = child(root, "name")) d.name = string_at(name, "name").value_or("");
    if (const auto description = child(root, "description"))
      d.description = description.IsScalar() ? description.Scalar() : "";
    if (const auto version = root["apiVersion"])
      d.api_version = string_at(version, "apiVersion").value_or("");
    if (const auto presets = child(root, "presets")) {
      d.presets = to_json(presets);
      if (auto choice = preset_choice(d.presets); !choice) error(presets, choice.error());
    }
    if (const auto inputs = child(root, "inputs"); inputs && !inputs.IsNull())
      d.inputs = inputs_at(inputs, false);
    if (const auto daemon = child(root, "daemon")) d.daemon = daemon_at(daemon, "the workflow");
    if (const auto policy = child(root, "on_failure"))
      d.on_failure = workflow_failure_policy(policy, errors);
    d.graph = graph_at(root, 0, "the workflow");
    if (const auto only = child(root, "automation_only")) {
      const auto value = only.IsScalar() ? scalar_value(only) : cel::Value(nullptr);
      if (!value.is<bool>()) {
        error(only, "automation_only must be true or false");
      } else {
        d.automation_only = *value.get_if<bool>();
      }
    }
    if (const auto triggers = child(root, "triggers"); triggers && !triggers.IsNull())
      d.triggers = read_triggers(triggers, &d.inputs, zones, *this);
    return d;
  }
};

}  // namespace

std::string format(std::string_view file, const Diagnostic& d) {
  std::string out(file);
  if (d.mark.line > 0)
    out += ":" + std::to_string(d.mark.line) + ":" + std::to_string(d.mark.column);
  return out + ": " + d.message;
}

std::string format_all(std::string_view file, const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& diagnostic : diagnostics) {
    if (!out.empty()) out += "\n";
    out += format(file, diagnostic);
  }
  return out;
}

tl::expected<Definition, std::vector<Diagnostic>> load_workflow(std::string_view yaml,
                                                                std::string_view file) {
  return load_workflow(yaml, file, nullptr);
}

tl::expected<Definition, std::vector<Diagnostic>> load_workflow(std::string_view yaml,
                                                                std::string_view file,
                                                                const cel::TimeZoneLoader& zones) {
  if (yaml.size() > kWorkflowBytesMax) {
    return tl::unexpected(std::vector<Diagnostic>{
        {{}, "the file is larger than " + std::to_string(kWorkflowBytesMax) + " bytes"}});
  }
  if (!is_valid_utf8(yaml)) {
    return tl::unexpected(std::vector<Diagnostic>{{{}, "the file is not valid UTF-8"}});
  }
  auto loaded = load_yaml(yaml);
  if (!loaded) return tl::unexpected(std::vector<Diagnostic>{std::move(loaded.error())});
  const YAML::Node root = std::move(*loaded);
  if (!root.IsMap()) {
    return tl::unexpected(
        std::vector<Diagnostic>{{mark_of(root), "a workflow must be a YAML map"}});
  }
  Loader loader;
  loader.zones = zones;
  Definition definition;
  try {
    definition = loader.definition_at(root);
  } catch (const YAML::Exception& e) {
    loader.errors.push_back({Mark{e.mark.line + 1, e.mark.column + 1}, "YAML: " + e.msg});
  }
  if (!loader.errors.empty()) {
    std::stable_sort(loader.errors.begin(), loader.errors.end(), [](const auto& a, const auto& b) {
      return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
    });
    return tl::unexpected(std::move(loader.errors));
  }
  definition.file = std::string(file);
  return definition;
}

}  // namespace reliant::workflow
