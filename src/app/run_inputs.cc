// Workflow inputs from --inputs and --input (run_inputs.h).
#include "app/run_inputs.h"

#include "base/json_parse.h"

namespace reliant {

void add_run_input_options(CLI::App& command, RunInputOptions& options) {
  // One value per --input, so a positional argument after it is not taken for another input.
  command.add_option("--input", options.pairs, "An input, NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--inputs", options.json, "Inputs as a JSON object");
}

Result<nlohmann::json> run_inputs(const RunInputOptions& options) {
  nlohmann::json inputs = nlohmann::json::object();
  if (!options.json.empty()) {
    inputs = parse_json_or_discarded(options.json);
    if (!inputs.is_object())
      return fail(ErrorCode::invalid_argument, "--inputs must be a JSON object");
  }
  for (const auto& pair : options.pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::invalid_argument, "--input takes NAME=VALUE, got '" + pair + "'");
    }
    inputs[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return inputs;
}

}  // namespace reliant
