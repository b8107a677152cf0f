// The workflow interpreter on random workflows: random DAGs of nodes (conditions that skip,
// edges with cases and defaults, fan-out, joins of both kinds, while loops and parallel items
// loops holding sub-graphs) driven by random results in a random order. However the results come,
// no action key is issued twice (a node runs at most once per scope and loop iteration), the
// run ends, and replaying the same results gives the same actions.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"
#include "property/property_check.h"
#include "property/random_workflow.h"

namespace reliant::workflow {
namespace {

TEST(WorkflowInterpreterProperty, NeverIssuesANodeTwicePerIterationAndAlwaysEnds) {
  property::check_property(300, [] {
    const auto yaml = random_workflow_yaml();
    auto loaded = load_workflow(yaml, "random.yaml");
    if (!loaded) {
      for (const auto& e : loaded.error()) RC_LOG() << format("random.yaml", e) << "\n";
      RC_LOG() << yaml;
    }
    RC_ASSERT(loaded.has_value());
    auto definition = std::make_shared<const Definition>(std::move(*loaded));
    RunContext context;
    context.inputs = cel::from_json({{"k", *rc::gen::inRange(0, 3)}});
    context.workflow = cel::from_json({{"id", "r"}});

    Interpreter run(definition, context);
    std::vector<NodeResult> history;
    for (int step = 0; run.status() == RunStatus::running && !run.pending().empty(); ++step) {
      RC_ASSERT(step < 10'000);
      const auto pick = *rc::gen::inRange<std::size_t>(0, run.pending().size());
      NodeResult result{run.pending()[pick].key, cel::from_json({{"v", *rc::gen::inRange(0, 4)}}),
                        std::nullopt};
      if (*rc::gen::inRange(0, 50) == 0) result.error = "it broke";
      history.push_back(result);
      RC_ASSERT(run.report(result).has_value());
    }
    RC_ASSERT(run.status() != RunStatus::running);  // nothing pending means the run ended
    const auto& issued = run.issued();
    RC_ASSERT(std::set<std::string>(issued.begin(), issued.end()).size() == issued.size());

    auto replayed = replay(definition, context, history);
    RC_ASSERT(replayed.has_value());
    RC_ASSERT((*replayed)->issued() == issued);
    RC_ASSERT((*replayed)->status() == run.status());
    RC_ASSERT((*replayed)->reached() == run.reached());
  });
}

}  // namespace
}  // namespace reliant::workflow
