// CEL's parser (cel-spec doc/langdef.md): source text to a syntax tree, or the first error with
// its position. Bounded: the source in bytes, the parser's nesting and the tree's height, so a
// hostile expression costs memory and stack in proportion to those bounds, never more.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "core/cel/ast.h"
#include "core/cel/lexer.h"

namespace reliant::cel {

// Deepest nesting of parentheses, brackets, calls and ternaries the parser follows (cel-go's
// default recursion limit is also 250).
inline constexpr int kNestingMax = 250;
// Tallest tree accepted: a chain `a + b + … ` is as tall as it is long. Chains of && and || are
// built balanced, as in cel-go, so they stay short.
inline constexpr int kTreeHeightMax = 500;

tl::expected<Expr, SyntaxError> parse(std::string_view source);

// Where `offset` falls in `source`: 1-based line, and 1-based column counted in code points.
struct SourcePosition {
  int line = 1;
  int column = 1;
};
SourcePosition position_of(std::string_view source, std::size_t offset);

// "line L, column C: message" (just "column C: message" for a one-line source).
std::string describe(const SyntaxError& error, std::string_view source);

}  // namespace reliant::cel
