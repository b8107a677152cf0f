// CEL's lexical grammar (cel-spec doc/langdef.md, "Syntax"): the source text as tokens with their
// byte offsets. Literals are decoded here — escapes, raw and bytes prefixes, numeric ranges — so
// the parser sees values, and a malformed literal is reported where it starts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/cel/ast.h"

namespace reliant::cel {

// A syntax error: what is wrong, and the byte offset in the source where it is.
struct SyntaxError {
  std::size_t offset = 0;
  std::string message;
};

enum class TokenKind {
  end,         // after the last token
  identifier,  // text: the name
  literal,     // constant: the decoded value (an int too large for int64 keeps its digits)
  punct,       // text: one of the operators and punctuation below
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t offset = 0;
  std::string text;
  Constant constant;
  // An integer literal 9223372036854775808: valid only right after a unary minus.
  bool int_min_magnitude = false;
};

// Longest sources accepted, in bytes (cel-go's default limit is 100,000 code points).
inline constexpr std::size_t kSourceBytesMax = 100'000;

// Splits `source` into tokens, ending with one of kind `end`. Punctuation texts: == != <= >= < >
// && || ! + - * / % ? : . , [ ] ( ) { }. Keywords true, false and null are literals; `in` is
// punctuation.
tl::expected<std::vector<Token>, SyntaxError> tokenize(std::string_view source);

}  // namespace reliant::cel
