// `reliant cel eval 'EXPR' [--vars JSON]`: the value as JSON on stdout (exit 0), or the error with
// its column on stderr (exit 1); bad options exit 2.
#include "app/cel_command.h"
#include "app/zone_files.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "base/json_parse.h"
#include "core/cel/evaluator.h"
#include "core/cel/parser.h"

namespace reliant {
namespace {

struct CelEvalOptions {
  std::string expression;
  std::string vars = "{}";
  std::int64_t budget = cel::EvalOptions{}.cost_max;
};

constexpr int kEvaluationFailed = 1;

constexpr int kBadOptions = 2;

int run_cel_eval(const CelEvalOptions& o) {
  auto vars = parse_json(o.vars);
  if (!vars || !vars->is_object()) {
    std::fprintf(stderr, "error: --vars must be a JSON object%s%s\n", vars ? "" : ": ",
                 vars ? "" : vars.error().message.c_str());
    return kBadOptions;
  }
  if (o.budget < 1) {
    std::fprintf(stderr, "error: --budget must be at least 1\n");
    return kBadOptions;
  }
  auto tree = cel::parse(o.expression);
  if (!tree) {
    std::fprintf(stderr, "error: %s\n", cel::describe(tree.error(), o.expression).c_str());
    return kEvaluationFailed;
  }
  cel::Activation activation;
  for (const auto& [name, value] : vars->items()) activation.bind(name, cel::from_json(value));
  cel::EvalOptions options;
  options.cost_max = o.budget;
  options.load_time_zone = system_time_zones();
  auto value = cel::evaluate(*tree, activation, options);
  if (!value) {
    const cel::SyntaxError located{value.error().offset, value.error().message};
    std::fprintf(stderr, "error: %s\n", cel::describe(located, o.expression).c_str());
    return kEvaluationFailed;
  }
  std::printf("%s\n", cel::to_json(*value).dump().c_str());
  return 0;
}

}  // namespace

void add_cel_commands(CLI::App& app, int& exit_code) {
  auto* cel = app.add_subcommand("cel", "CEL expressions, as workflows evaluate them");
  cel->require_subcommand(1);
  auto options = std::make_shared<CelEvalOptions>();
  auto* eval = cel->add_subcommand("eval", "Evaluate one expression and print its value as JSON");
  eval->add_option("expression", options->expression,
                   "The expression, e.g. 'size(inputs.files) > 0'")
      ->required();
  eval->add_option("--vars", options->vars, "Variables as a JSON object, e.g. '{\"inputs\": {}}'")
      ->capture_default_str();
  eval->add_option("--budget", options->budget, "Evaluation steps allowed")->capture_default_str();
  eval->callback([options, &exit_code] { exit_code = run_cel_eval(*options); });
}

}  // namespace reliant
