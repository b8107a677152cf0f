// Evaluates a parsed CEL expression against variables (cel-spec doc/langdef.md, "Evaluation").
// Errors are values until they must surface: `false && error` is false and `true || error` is
// true, in either order, as are all() and exists() over elements that fail. Every evaluation has
// a cost budget, so a hostile expression ends with an error instead of holding a worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "core/cel/ast.h"
#include "core/cel/time_zones.h"
#include "core/cel/value.h"

namespace reliant::cel {

class TypeRegistry;

// A failed evaluation: what went wrong, and where (the offset of the operation, as in Expr).
struct EvalError {
  std::size_t offset = 0;
  std::string message;
};

using EvalResult = tl::expected<Value, EvalError>;

// The variables an expression sees, by name. A dotted name ("inputs.mode") is found before the
// selection it spells, as cel-spec's qualified-name resolution asks.
class Activation {
 public:
  void bind(std::string name, Value value) {
    dotted_ = dotted_ || name.find('.') != std::string::npos;
    for (auto& [bound, old] : variables_) {
      if (bound == name) {
        old = std::move(value);
        return;
      }
    }
    variables_.emplace_back(std::move(name), std::move(value));
  }
  // A scan: activations hold a handful of names (inputs, nodes, iter …), where comparing
  // lengths first beats a tree's string comparisons.
  const Value* find(std::string_view name) const {
    for (const auto& [bound, value] : variables_) {
      if (bound.size() == name.size() && bound == name) return &value;
    }
    return nullptr;
  }
  // Whether some bound name holds a dot: only then can `a.b.c` name a variable of its own, and
  // the evaluator spell out selection chains to look.
  bool has_dotted_names() const { return dotted_; }

 private:
  std::vector<std::pair<std::string, Value>> variables_;
  bool dotted_ = false;
};

struct EvalOptions {
  // Work allowed per evaluation, in steps: one per node evaluated, one per comprehension
  // iteration, one per list element a concatenation builds or `in` scans, one per 16 bytes a
  // string or bytes concatenation builds or a list or map being built keeps, and one per
  // element of the value handed back (cel::oversize walks it). So the default also bounds what
  // an evaluation can allocate: about a million list elements, or 16 MB of text.
  std::int64_t cost_max = 1'000'000;
  // A budget shared by many evaluations (a workflow decision's): when set, an evaluation may
  // spend at most what is left of it as well, and what it spends is taken from it.
  std::int64_t* shared_cost_left = nullptr;
  // Where the timestamp accessors find IANA zones ("Europe/Paris"); without it they know only
  // UTC and fixed offsets ("+02:00").
  TimeZoneLoader load_time_zone = nullptr;
  // The protobuf message types `pkg.Msg{…}` may build (core/cel/messages.h); without it, only
  // google.protobuf's well-known types.
  std::shared_ptr<const TypeRegistry> types = nullptr;
  // The package type names are resolved in ("cel.expr.conformance.proto3": `TestAllTypes` is
  // cel.expr.conformance.proto3.TestAllTypes), as cel-spec's containers; empty for the root.
  std::string container{};
};

// Walks the tree: for an expression evaluated once. Program is for one evaluated many times.
EvalResult evaluate(const Expr& expr, const Activation& variables, const EvalOptions& options = {});

// An expression prepared once for many evaluations, as a workflow's conditions and templates
// are. It is compiled into steps that borrow their operands (constants, variables and the values
// inside them) instead of copying them, and apply the operators conditions use most in place;
// what the steps do not cover runs on the tree evaluator. Values, errors and cost are evaluate()'s.
class Program {
 public:
  explicit Program(Expr expr);
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;
  ~Program();

  EvalResult evaluate(const Activation& variables, const EvalOptions& options = {}) const;
  const Expr& expr() const { return *expr_; }

  class Step;  // one compiled node (program.cc)

 private:
  std::unique_ptr<const Expr> expr_;  // the steps point into it, so it never moves
  std::unique_ptr<const Step> root_;
};

}  // namespace reliant::cel
