// evaluate(): one expression, evaluated once, by the tree walk (core/cel/tree_evaluator.h).
#include "core/cel/evaluator.h"

#include "core/cel/functions.h"
#include "core/cel/tree_evaluator.h"

namespace reliant::cel {

EvalResult evaluate(const Expr& expr, const Activation& variables, const EvalOptions& options) {
  Budget budget(granted_cost(options));
  detail::Evaluator evaluator(variables, options, budget);
  EvalResult result = evaluator.eval(expr);
  std::optional<EvalError> refused;
  if (result) refused = refuse_oversize(*result, budget);
  take_shared_cost(options, budget);
  if (refused) return tl::unexpected(std::move(*refused));
  return result;
}

}  // namespace reliant::cel
