// The YAML budget, counted on yaml-cpp's parser events: a table of what each anchor expands
// to, filled as its node closes, makes each alias cost one lookup.
#include "core/workflow/bounded_yaml.h"

#include <sstream>
#include <string>
#include <unordered_map>

#include <yaml-cpp/eventhandler.h>

#include "base/assert.h"

namespace reliant::workflow {
namespace {

Mark one_based(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return Mark{mark.line + 1, mark.column + 1};
}

// Counts what the documents expand to, and stops at the first node past the budget (by
// throwing, the only way out of yaml-cpp's parser from inside a handler).
class BudgetCounter final : public YAML::EventHandler {
 public:
  explicit BudgetCounter(const YamlBudget& budget) : budget_(budget) {}

  struct Exceeded {
    Diagnostic problem;
  };

  void OnDocumentStart(const YAML::Mark&) override {
    expanded_.clear();  // anchors are numbered per document
    RELIANT_ASSERT(open_.empty());
  }
  void OnDocumentEnd() override { RELIANT_ASSERT(open_.empty()); }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 0); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(mark, anchor, value.size());
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto found = expanded_.find(anchor);
    if (found == expanded_.end()) {
      // yaml-cpp numbers an anchor when its node starts: an alias to one not yet closed lies
      // inside it, a node that would contain itself.
      throw Exceeded{{one_based(mark), "an alias inside the node it names (a cycle)"}};
    }
    add(mark, found->second.nodes, found->second.bytes);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Size {
    std::size_t nodes = 0;
    std::size_t bytes = 0;
  };
  struct Open {
    YAML::anchor_t anchor;
    Size at_start;  // the totals before this node
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, std::size_t bytes) {
    add(mark, 1, bytes);
    if (anchor != YAML::NullAnchor) expanded_[anchor] = Size{1, bytes};
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= budget_.depth_max) {
      throw Exceeded{{one_based(mark), "nested more than " + std::to_string(budget_.depth_max) +
                                           " sequences and maps deep"}};
    }
    open_.push_back(Open{anchor, total_});
    add(mark, 1, 0);
  }
  void close() {
    RELIANT_ASSERT(!open_.empty());
    const Open node = open_.back();
    open_.pop_back();
    if (node.anchor != YAML::NullAnchor) {
      expanded_[node.anchor] =
          Size{total_.nodes - node.at_start.nodes, total_.bytes - node.at_start.bytes};
    }
  }
  void add(const YAML::Mark& mark, std::size_t nodes, std::size_t bytes) {
    // Each term is at most the budget (it was counted within it), so the sums cannot wrap.
    total_.nodes += nodes;
    total_.bytes += bytes;
    if (total_.nodes > budget_.nodes_max) {
      throw Exceeded{{one_based(mark), "the YAML expands to more than " +
                                           std::to_string(budget_.nodes_max) +
                                           " nodes (aliases count as what they name)"}};
    }
    if (total_.bytes > budget_.scalar_bytes_max) {
      throw Exceeded{{one_based(mark), "the YAML expands to more than " +
                                           std::to_string(budget_.scalar_bytes_max) +
                                           " bytes of scalars (aliases count as what they name)"}};
    }
  }

  const YamlBudget& budget_;
  Size total_;
  std::vector<Open> open_;  // bounded by depth_max
  std::unordered_map<YAML::anchor_t, Size> expanded_;
};

}  // namespace

tl::expected<void, Diagnostic> check_yaml_budget(std::string_view yaml, const YamlBudget& budget) {
  std::istringstream in{std::string(yaml)};
  BudgetCounter counter(budget);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const BudgetCounter::Exceeded& exceeded) {
    return tl::unexpected(exceeded.problem);
  } catch (const YAML::Exception& e) {
    return tl::unexpected(Diagnostic{one_based(e.mark), "YAML: " + e.msg});
  }
  return {};
}

tl::expected<YAML::Node, Diagnostic> load_yaml(std::string_view yaml, const YamlBudget& budget) {
  if (auto checked = check_yaml_budget(yaml, budget); !checked) {
    return tl::unexpected(checked.error());
  }
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return tl::unexpected(Diagnostic{one_based(e.mark), "YAML: " + e.msg});
  }
}

tl::expected<std::vector<YAML::Node>, Diagnostic> load_all_yaml(std::string_view yaml,
                                                                const YamlBudget& budget) {
  if (auto checked = check_yaml_budget(yaml, budget); !checked) {
    return tl::unexpected(checked.error());
  }
  try {
    return YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return tl::unexpected(Diagnostic{one_based(e.mark), "YAML: " + e.msg});
  }
}

}  // namespace reliant::workflow
