// CEL syntax trees back to source text: the canonical spelling, with the parentheses the
// grammar needs and no others. parse(to_source(e)) gives a tree same_tree() equal to `e`.
#pragma once

#include <string>

#include "core/cel/ast.h"

namespace reliant::cel {

std::string to_source(const Expr& expr);

// A constant as a CEL literal: "null", "1u", "2.5", "\"text\"", "b\"\\x00\"".
std::string to_source(const Constant& constant);

}  // namespace reliant::cel
