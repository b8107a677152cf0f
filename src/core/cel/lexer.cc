// CEL tokens: identifiers, literals with their escapes decoded, and punctuation.
#include "core/cel/lexer.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include "base/ascii.h"
#include "base/utf8.h"

namespace reliant::cel {
namespace {

bool is_hex(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_part(char c) { return is_ident_start(c) || is_ascii_digit(c); }
int hex_value(char c) {
  if (is_ascii_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : s_(source) {}

  tl::expected<std::vector<Token>, SyntaxError> run() {
    if (s_.size() > kSourceBytesMax) {
      return error(kSourceBytesMax,
                   "expression longer than " + std::to_string(kSourceBytesMax) + " bytes");
    }
    std::vector<Token> tokens;
    for (;;) {
      skip_space_and_comments();
      Token token;
      token.offset = at_;
      if (at_ == s_.size()) {
        tokens.push_back(std::move(token));
        return tokens;
      }
      auto read = next(token);
      if (!read) return tl::unexpected(read.error());
      tokens.push_back(std::move(token));
    }
  }

 private:
  using Step = tl::expected<void, SyntaxError>;

  static tl::unexpected<SyntaxError> error(std::size_t offset, std::string message) {
    return tl::unexpected(SyntaxError{offset, std::move(message)});
  }

  char peek(std::size_t ahead = 0) const {
    return at_ + ahead < s_.size() ? s_[at_ + ahead] : '\0';
  }

  void skip_space_and_comments() {
    while (at_ < s_.size()) {
      const char c = s_[at_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++at_;
      } else if (c == '/' && peek(1) == '/') {
        while (at_ < s_.size() && s_[at_] != '\n') ++at_;
      } else {
        return;
      }
    }
  }

  Step next(Token& token) {
    const char c = s_[at_];
    // String and bytes literals may carry an r/R (raw) and b/B (bytes) prefix, in either order.
    if (is_ident_start(c)) {
      std::size_t prefix = 0;
      bool raw = false, bytes = false;
      while (prefix < 2) {
        const char p = peek(prefix);
        if ((p == 'r' || p == 'R') && !raw) {
          raw = true;
        } else if ((p == 'b' || p == 'B') && !bytes) {
          bytes = true;
        } else {
          break;
        }
        ++prefix;
      }
      if (prefix > 0 && (peek(prefix) == '"' || peek(prefix) == '\'')) {
        at_ += prefix;
        return string_literal(token, raw, bytes);
      }
      return identifier(token);
    }
    if (c == '"' || c == '\'') return string_literal(token, false, false);
    if (is_ascii_digit(c) || (c == '.' && is_ascii_digit(peek(1)))) return number(token);
    return punctuation(token);
  }

  Step identifier(Token& token) {
    const std::size_t start = at_;
    while (at_ < s_.size() && is_ident_part(s_[at_])) ++at_;
    token.text = std::string(s_.substr(start, at_ - start));
    if (token.text == "true" || token.text == "false") {
      token.kind = TokenKind::literal;
      token.constant = token.text == "true";
    } else if (token.text == "null") {
      token.kind = TokenKind::literal;
      token.constant = nullptr;
    } else if (token.text == "in") {
      token.kind = TokenKind::punct;
    } else {
      token.kind = TokenKind::identifier;
    }
    return {};
  }

  Step number(Token& token) {
    const std::size_t start = at_;
    token.kind = TokenKind::literal;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      at_ += 2;
      const std::size_t digits = at_;
      while (at_ < s_.size() && is_hex(s_[at_])) ++at_;
      if (at_ == digits) return error(start, "hexadecimal literal without digits");
      return integer(token, start, s_.substr(digits, at_ - digits), 16);
    }
    while (at_ < s_.size() && is_ascii_digit(s_[at_])) ++at_;
    bool is_float = false;
    if (peek() == '.' && is_ascii_digit(peek(1))) {
      is_float = true;
      ++at_;
      while (at_ < s_.size() && is_ascii_digit(s_[at_])) ++at_;
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t ahead = 1;
      if (peek(ahead) == '+' || peek(ahead) == '-') ++ahead;
      if (is_ascii_digit(peek(ahead))) {
        is_float = true;
        at_ += ahead;
        while (at_ < s_.size() && is_ascii_digit(s_[at_])) ++at_;
      }
    }
    if (!is_float) return integer(token, start, s_.substr(start, at_ - start), 10);
    const std::string text(s_.substr(start, at_ - start));
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (errno == ERANGE && (value > 1 || value < -1)) {
      return error(start, "floating-point literal out of range: " + text);
    }
    token.constant = value;
    return {};
  }

  // Digits in `base`, then an optional u/U suffix.
  Step integer(Token& token, std::size_t start, std::string_view digits, int base) {
    const bool unsigned_literal = peek() == 'u' || peek() == 'U';
    if (unsigned_literal) ++at_;
    std::uint64_t magnitude = 0;
    for (char d : digits) {
      const std::uint64_t digit = static_cast<std::uint64_t>(hex_value(d));
      if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / base) {
        return error(start,
                     "integer literal out of range: " + std::string(s_.substr(start, at_ - start)));
      }
      magnitude = magnitude * base + digit;
    }
    if (unsigned_literal) {
      token.constant = magnitude;
      return {};
    }
    constexpr auto kIntMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (magnitude == kIntMax + 1) {
      token.int_min_magnitude = true;  // the parser accepts it only as -9223372036854775808
      token.constant = std::numeric_limits<std::int64_t>::min();
      return {};
    }
    if (magnitude > kIntMax) {
      return error(start,
                   "integer literal out of range: " + std::string(s_.substr(start, at_ - start)));
    }
    token.constant = static_cast<std::int64_t>(magnitude);
    return {};
  }

  Step string_literal(Token& token, bool raw, bool bytes) {
    const std::size_t start = token.offset;
    const char quote = s_[at_];
    const bool triple = peek(1) == quote && peek(2) == quote;
    at_ += triple ? 3 : 1;
    std::string out;
    for (;;) {
      if (at_ >= s_.size()) return error(start, "unterminated string literal");
      const char c = s_[at_];
      if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
        at_ += triple ? 3 : 1;
        break;
      }
      if (!triple && (c == '\n' || c == '\r')) {
        return error(at_, "newline in a single-quoted string literal (use triple quotes)");
      }
      if (c == '\\' && !raw) {
        auto escaped = escape(out, bytes);
        if (!escaped) return escaped;
        continue;
      }
      std::uint32_t code_point = 0;
      const int length = decode_utf8(s_, at_, code_point);
      if (length == 0) return error(at_, "invalid UTF-8 in a string literal");
      out.append(s_.substr(at_, static_cast<std::size_t>(length)));
      at_ += static_cast<std::size_t>(length);
    }
    token.kind = TokenKind::literal;
    if (bytes) {
      token.constant = Bytes{std::move(out)};
    } else {
      token.constant = std::move(out);
    }
    return {};
  }

  // One escape sequence at at_ (a backslash), appended to `out`. In bytes literals \x and octal
  // escapes are octets; in strings they are code points.
  Step escape(std::string& out, bool bytes) {
    const std::size_t start = at_;
    const char c = peek(1);
    at_ += 2;
    switch (c) {
      case 'a':
        out += '\a';
        return {};
      case 'b':
        out += '\b';
        return {};
      case 'f':
        out += '\f';
        return {};
      case 'n':
        out += '\n';
        return {};
      case 'r':
        out += '\r';
        return {};
      case 't':
        out += '\t';
        return {};
      case 'v':
        out += '\v';
        return {};
      case '\\':
      case '?':
      case '"':
      case '\'':
      case '`':
        out += c;
        return {};
      case 'x':
      case 'X':
        return code_unit(out, start, 2, 16, bytes);
      case 'u':
      case 'U': {
        if (bytes) return error(start, "\\u escapes are not allowed in bytes literals");
        return code_unit(out, start, c == 'u' ? 4 : 8, 16, false);
      }
      default:
        if (c >= '0' && c <= '3') {
          at_ -= 1;
          return code_unit(out, start, 3, 8, bytes);
        }
        return error(start, std::string("invalid escape sequence \\") + (c ? c : ' '));
    }
  }

  Step code_unit(std::string& out, std::size_t start, int digits, int base, bool octet) {
    std::uint32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      const char d = peek();
      const bool valid = base == 16 ? is_hex(d) : (d >= '0' && d <= '7');
      if (!valid)
        return error(start, "escape sequence needs " + std::to_string(digits) +
                                (base == 16 ? " hex digits" : " octal digits"));
      value = value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(hex_value(d));
      ++at_;
    }
    if (octet) {
      out += static_cast<char>(value);
      return {};
    }
    if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
      return error(start, "escape sequence is not a Unicode scalar value");
    }
    append_utf8(value, out);
    return {};
  }

  Step punctuation(Token& token) {
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
    token.kind = TokenKind::punct;
    for (std::string_view two : kTwo) {
      if (s_.substr(at_, 2) == two) {
        token.text = std::string(two);
        at_ += 2;
        return {};
      }
    }
    static constexpr std::string_view kOne = "<>!+-*/%?:.,[](){}";
    const char c = s_[at_];
    if (kOne.find(c) == std::string_view::npos) {
      const bool printable = c > ' ' && c < 127;
      return error(at_, printable
                            ? std::string("unexpected character '") + c + "'"
                            : "unexpected byte " + std::to_string(static_cast<unsigned char>(c)));
    }
    token.text = std::string(1, c);
    ++at_;
    return {};
  }

  std::string_view s_;
  std::size_t at_ = 0;
};

}  // namespace

tl::expected<std::vector<Token>, SyntaxError> tokenize(std::string_view source) {
  return Lexer(source).run();
}

}  // namespace reliant::cel
