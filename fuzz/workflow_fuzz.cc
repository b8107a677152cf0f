// Fuzz target: any bytes given as a workflow file load to a definition or to located errors,
// never a crash; a definition that loads runs in the interpreter, every pending node completing
// with an empty output, until it ends or a step bound, without issuing any node twice.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "core/workflow/inputs.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reliant::workflow;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto loaded = load_workflow(yaml, "fuzz.yaml");
  if (!loaded) {
    RELIANT_ASSERT(!loaded.error().empty());
    for (const auto& e : loaded.error()) RELIANT_ASSERT(!format("fuzz.yaml", e).empty());
    return 0;
  }
  auto inputs = resolve_inputs(loaded->inputs, nlohmann::json::object());
  if (!inputs) return 0;
  auto definition = std::make_shared<const Definition>(std::move(*loaded));
  RunContext context;
  context.inputs = std::move(*inputs);
  context.workflow = reliant::cel::from_json({{"id", "fuzz"}});
  Interpreter run(definition, context);
  std::set<std::string> issued;
  for (int step = 0; step < 2'000 && run.status() == RunStatus::running && !run.pending().empty();
       ++step) {
    const auto key = run.pending().front().key;
    RELIANT_ASSERT(issued.insert(key).second);
    RELIANT_ASSERT(
        run.report(NodeResult{key, reliant::cel::Value(reliant::cel::ValueMap{}), std::nullopt}));
  }
  return 0;
}
