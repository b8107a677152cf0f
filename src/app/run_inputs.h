// A workflow's inputs from the command line, as `reliant workflow run` and `reliant chat` take
// them: --inputs JSON (an object), then each --input NAME=VALUE over it. Values given as text
// stay text; the server converts them to each input's declared type.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant {

struct RunInputOptions {
  std::vector<std::string> pairs;  // NAME=VALUE
  std::string json;                // a JSON object
};

void add_run_input_options(CLI::App& command, RunInputOptions& options);

// invalid_argument for --inputs that is not a JSON object or a --input without NAME=.
Result<nlohmann::json> run_inputs(const RunInputOptions& options);

}  // namespace reliant
