// evaluate(): one expression, evaluated once, by the tree walk (core/cel/tree_evaluator.h).
#include "core/cel/evaluator.h"

#include "core/cel/tree_evaluator.h"

namespace reliant::cel {

EvalResult evaluate(const Expr& expr, const Activation& variables, const EvalOptions& options) {
  Budget budget(options.cost_max);
  detail::Evaluator evaluator(variables, options, budget);
  return evaluator.eval(expr);
}

}  // namespace reliant::cel
