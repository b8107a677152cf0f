// Recursive descent over CEL's grammar, one function per precedence level, lowest first.
#include "core/cel/parser.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "base/assert.h"

namespace reliant::cel {
namespace {

// Words CEL reserves: never a variable or function name (cel-spec, "Syntax").
constexpr std::array<std::string_view, 17> kReservedWords = {
    "as",  "break", "const",   "continue",  "else",   "for", "function", "if",   "import",
    "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};

bool is_reserved(std::string_view name) {
  return std::find(kReservedWords.begin(), kReservedWords.end(), name) != kReservedWords.end();
}

// A subtree and its height (a leaf is 1), carried up so the height bound needs no second walk.
struct Node {
  Expr expr;
  int height = 1;
};

using Parsed = tl::expected<Node, SyntaxError>;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  tl::expected<Expr, SyntaxError> run() {
    auto root = expression();
    if (!root) return tl::unexpected(root.error());
    if (peek().kind != TokenKind::end) return unexpected_here();
    return std::move(root->expr);
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(at_ + ahead, tokens_.size() - 1)];
  }
  bool at_punct(std::string_view text, std::size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::punct && peek(ahead).text == text;
  }
  bool take(std::string_view text) {
    if (!at_punct(text)) return false;
    ++at_;
    return true;
  }

  static tl::unexpected<SyntaxError> error(std::size_t offset, std::string message) {
    return tl::unexpected(SyntaxError{offset, std::move(message)});
  }
  tl::unexpected<SyntaxError> unexpected_here() const {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::end:
        return error(token.offset, "unexpected end of expression");
      case TokenKind::identifier:
        return error(token.offset, "unexpected name '" + token.text + "'");
      case TokenKind::literal:
        return error(token.offset, "unexpected literal");
      case TokenKind::punct:
        return error(token.offset, "unexpected '" + token.text + "'");
    }
    return error(token.offset, "unexpected token");
  }
  tl::expected<void, SyntaxError> expect(std::string_view text) {
    if (take(text)) return {};
    if (peek().kind == TokenKind::end) {
      return error(peek().offset, "expected '" + std::string(text) + "' before the end");
    }
    return error(peek().offset, "expected '" + std::string(text) + "'");
  }

  // A node over `children`, refused when it would be taller than kTreeHeightMax.
  Parsed make(std::size_t offset, std::variant<Constant, Ident, Select, Call, List, Map, Message> n,
              int child_height) {
    const int height = child_height + 1;
    if (height > kTreeHeightMax) {
      return error(offset, "expression nested deeper than " + std::to_string(kTreeHeightMax));
    }
    return Node{Expr{offset, std::move(n)}, height};
  }
  Parsed call(std::size_t offset, std::string function, std::vector<Node> args,
              ExprPtr target = nullptr, int target_height = 0) {
    Call c;
    c.builtin = builtin_named(function);
    c.function = std::move(function);
    c.target = std::move(target);
    int tallest = target_height;
    for (auto& arg : args) {
      tallest = std::max(tallest, arg.height);
      c.args.push_back(std::move(arg.expr));
    }
    return make(offset, std::move(c), tallest);
  }
  Parsed binary(std::size_t offset, const char* function, Node lhs, Node rhs) {
    std::vector<Node> args;
    args.push_back(std::move(lhs));
    args.push_back(std::move(rhs));
    return call(offset, function, std::move(args));
  }

  // Expr = ConditionalOr ["?" ConditionalOr ":" Expr]
  Parsed expression() {
    if (++nesting_ > kNestingMax) {
      return error(peek().offset, "expression nested deeper than " + std::to_string(kNestingMax));
    }
    auto condition = logical(op::kLogicalOr);
    if (!condition) return condition;
    if (at_punct("?")) {
      const std::size_t offset = peek().offset;
      ++at_;
      auto if_true = logical(op::kLogicalOr);
      if (!if_true) return if_true;
      if (auto ok = expect(":"); !ok) return tl::unexpected(ok.error());
      auto if_false = expression();
      if (!if_false) return if_false;
      std::vector<Node> args;
      args.push_back(std::move(*condition));
      args.push_back(std::move(*if_true));
      args.push_back(std::move(*if_false));
      condition = call(offset, op::kConditional, std::move(args));
    }
    --nesting_;
    return condition;
  }

  // ConditionalOr and ConditionalAnd: operands collected, then combined as a balanced tree.
  Parsed logical(const char* function) {
    const bool is_or = std::string_view(function) == op::kLogicalOr;
    const std::string_view symbol = is_or ? "||" : "&&";
    std::vector<Node> operands;
    std::vector<std::size_t> offsets;  // offsets[i]: the operator before operands[i + 1]
    for (;;) {
      auto operand = is_or ? logical(op::kLogicalAnd) : relation();
      if (!operand) return operand;
      operands.push_back(std::move(*operand));
      if (!at_punct(symbol)) break;
      offsets.push_back(peek().offset);
      ++at_;
    }
    return balance(function, operands, offsets, 0, operands.size());
  }
  Parsed balance(const char* function, std::vector<Node>& operands,
                 const std::vector<std::size_t>& offsets, std::size_t lo, std::size_t hi) {
    if (hi - lo == 1) return std::move(operands[lo]);
    const std::size_t mid = lo + (hi - lo) / 2;
    auto lhs = balance(function, operands, offsets, lo, mid);
    if (!lhs) return lhs;
    auto rhs = balance(function, operands, offsets, mid, hi);
    if (!rhs) return rhs;
    return binary(offsets[mid - 1], function, std::move(*lhs), std::move(*rhs));
  }

  // Relation = [Relation Relop] Addition
  Parsed relation() {
    static constexpr std::pair<std::string_view, const char*> kRelops[] = {
        {"<", op::kLess},    {"<=", op::kLessEquals},
        {">", op::kGreater}, {">=", op::kGreaterEquals},
        {"==", op::kEquals}, {"!=", op::kNotEquals},
        {"in", op::kIn}};
    return left_associative(kRelops, &Parser::addition);
  }
  Parsed addition() {
    static constexpr std::pair<std::string_view, const char*> kOps[] = {{"+", op::kAdd},
                                                                        {"-", op::kSubtract}};
    return left_associative(kOps, &Parser::multiplication);
  }
  Parsed multiplication() {
    static constexpr std::pair<std::string_view, const char*> kOps[] = {
        {"*", op::kMultiply}, {"/", op::kDivide}, {"%", op::kModulo}};
    return left_associative(kOps, &Parser::unary);
  }
  template <std::size_t N>
  Parsed left_associative(const std::pair<std::string_view, const char*> (&ops)[N],
                          Parsed (Parser::*operand)()) {
    auto lhs = (this->*operand)();
    if (!lhs) return lhs;
    for (;;) {
      const auto* found =
          std::find_if(ops, ops + N, [this](const auto& o) { return at_punct(o.first); });
      if (found == ops + N) return lhs;
      const std::size_t offset = peek().offset;
      ++at_;
      auto rhs = (this->*operand)();
      if (!rhs) return rhs;
      lhs = binary(offset, found->second, std::move(*lhs), std::move(*rhs));
      if (!lhs) return lhs;
    }
  }

  // Unary = Member | "!" {"!"} Member | "-" {"-"} Member. A minus right before a numeric
  // literal is part of the literal, as in cel-go: -9223372036854775808 is an int.
  Parsed unary() {
    if (!at_punct("!") && !at_punct("-")) return member();
    const std::string symbol = peek().text;
    std::vector<std::size_t> offsets;
    while (at_punct(symbol)) {
      offsets.push_back(peek().offset);
      ++at_;
    }
    Parsed operand;
    if (symbol == "-" && peek().kind == TokenKind::literal &&
        (std::holds_alternative<std::int64_t>(peek().constant) ||
         std::holds_alternative<double>(peek().constant))) {
      Token literal = peek();
      ++at_;
      if (auto* value = std::get_if<std::int64_t>(&literal.constant);
          value && !literal.int_min_magnitude) {
        *value = -*value;
      } else if (auto* real = std::get_if<double>(&literal.constant)) {
        *real = -*real;
      }
      operand = member_suffixes(Node{Expr{offsets.back(), std::move(literal.constant)}, 1});
      offsets.pop_back();
    } else {
      operand = member();
    }
    while (operand && !offsets.empty()) {
      std::vector<Node> args;
      args.push_back(std::move(*operand));
      operand =
          call(offsets.back(), symbol == "!" ? op::kLogicalNot : op::kNegate, std::move(args));
      offsets.pop_back();
    }
    return operand;
  }

  // Member = Primary | Member "." SELECTOR ["(" [ExprList] ")"] | Member "[" Expr "]"
  Parsed member() {
    auto primary_node = primary();
    if (!primary_node) return primary_node;
    return member_suffixes(std::move(*primary_node));
  }
  Parsed member_suffixes(Node node) {
    for (;;) {
      const std::size_t offset = peek().offset;
      if (take(".")) {
        const bool optional = take("?");
        if (peek().kind != TokenKind::identifier) {
          return error(peek().offset, "expected a field name after '.'");
        }
        std::string name = peek().text;
        ++at_;
        if (!optional && at_punct("(")) {
          auto args = arguments();
          if (!args) return tl::unexpected(args.error());
          const int target_height = node.height;
          auto method = call(offset, std::move(name), std::move(*args),
                             std::make_unique<Expr>(std::move(node.expr)), target_height);
          if (!method) return method;
          if (auto ok = check_macro(method->expr); !ok) return tl::unexpected(ok.error());
          node = std::move(*method);
          continue;
        }
        auto selected = make(
            offset, Select{std::make_unique<Expr>(std::move(node.expr)), std::move(name), optional},
            node.height);
        if (!selected) return selected;
        node = std::move(*selected);
      } else if (take("[")) {
        const bool optional = take("?");
        auto index = expression();
        if (!index) return index;
        if (auto ok = expect("]"); !ok) return tl::unexpected(ok.error());
        auto indexed = binary(offset, optional ? op::kOptionalIndex : op::kIndex, std::move(node),
                              std::move(*index));
        if (!indexed) return indexed;
        node = std::move(*indexed);
      } else if (at_punct("{") && qualified_name(node.expr)) {
        auto message = message_fields(node.expr.offset, *qualified_name(node.expr));
        if (!message) return message;
        node = std::move(*message);
      } else {
        return node;
      }
    }
  }

  Parsed primary() {
    const Token& token = peek();
    const std::size_t offset = token.offset;
    if (token.kind == TokenKind::literal) {
      if (token.int_min_magnitude) {
        return error(offset, "integer literal out of range: 9223372036854775808");
      }
      Constant value = token.constant;
      ++at_;
      return Node{Expr{offset, std::move(value)}, 1};
    }
    const bool from_root = at_punct(".") && peek(1).kind == TokenKind::identifier;
    if (from_root) ++at_;
    if (peek().kind == TokenKind::identifier) {
      std::string name = peek().text;
      if (is_reserved(name)) return error(peek().offset, "'" + name + "' is a reserved word");
      ++at_;
      if (at_punct("(")) {
        auto args = arguments();
        if (!args) return tl::unexpected(args.error());
        auto global = call(offset, std::move(name), std::move(*args));
        if (!global) return global;
        if (auto ok = check_macro(global->expr); !ok) return tl::unexpected(ok.error());
        return global;
      }
      return Node{Expr{offset, Ident{std::move(name), from_root}}, 1};
    }
    if (take("(")) {
      auto inner = expression();
      if (!inner) return inner;
      if (auto ok = expect(")"); !ok) return tl::unexpected(ok.error());
      return inner;
    }
    if (take("[")) return list(offset);
    if (take("{")) return map(offset);
    return unexpected_here();
  }

  // "(" [ExprList] ")", the opening parenthesis next.
  tl::expected<std::vector<Node>, SyntaxError> arguments() {
    ++at_;
    std::vector<Node> args;
    if (take(")")) return args;
    for (;;) {
      auto arg = expression();
      if (!arg) return tl::unexpected(arg.error());
      args.push_back(std::move(*arg));
      if (take(")")) return args;
      if (auto ok = expect(","); !ok) return tl::unexpected(ok.error());
    }
  }

  // "[" [ExprList] [","] "]", after the bracket; elements may be marked optional with "?".
  Parsed list(std::size_t offset) {
    List out;
    int tallest = 0;
    while (!take("]")) {
      const bool optional = take("?");
      auto element = expression();
      if (!element) return element;
      tallest = std::max(tallest, element->height);
      out.elements.push_back(ListElement{std::move(element->expr), optional});
      if (take("]")) break;
      if (auto ok = expect(","); !ok) return tl::unexpected(ok.error());
    }
    return make(offset, std::move(out), tallest);
  }

  // "{" [MapInits] [","] "}", after the brace.
  Parsed map(std::size_t offset) {
    Map out;
    int tallest = 0;
    while (!take("}")) {
      const bool optional = take("?");
      auto key = expression();
      if (!key) return key;
      if (auto ok = expect(":"); !ok) return tl::unexpected(ok.error());
      auto value = expression();
      if (!value) return value;
      tallest = std::max({tallest, key->height, value->height});
      out.entries.push_back(MapEntry{std::move(key->expr), std::move(value->expr), optional});
      if (take("}")) break;
      if (auto ok = expect(","); !ok) return tl::unexpected(ok.error());
    }
    return make(offset, std::move(out), tallest);
  }

  // Name "{" [FieldInits] [","] "}", at the brace.
  Parsed message_fields(std::size_t offset, std::string type_name) {
    ++at_;
    Message out;
    out.type_name = std::move(type_name);
    int tallest = 0;
    while (!take("}")) {
      const bool optional = take("?");
      if (peek().kind != TokenKind::identifier) {
        return error(peek().offset, "expected a field name in a message construction");
      }
      std::string field = peek().text;
      ++at_;
      if (auto ok = expect(":"); !ok) return tl::unexpected(ok.error());
      auto value = expression();
      if (!value) return value;
      tallest = std::max(tallest, value->height);
      out.fields.push_back(FieldInit{std::move(field), std::move(value->expr), optional});
      if (take("}")) break;
      if (auto ok = expect(","); !ok) return tl::unexpected(ok.error());
    }
    return make(offset, std::move(out), tallest);
  }

  // The macros' shapes (cel-spec, "Macros"): has(a.f) takes a field selection; the
  // comprehensions, and optionals' optMap and optFlatMap, take a plain variable name first.
  static tl::expected<void, SyntaxError> check_macro(const Expr& expr) {
    const auto& c = std::get<Call>(expr.node);
    if (!c.target && c.function == "has" && c.args.size() == 1) {
      const auto* select = std::get_if<Select>(&c.args[0].node);
      if (!select || select->optional) {
        return error(c.args[0].offset, "has() takes a field selection, such as has(a.b)");
      }
      return {};
    }
    if (!c.target) return {};
    const bool comprehension =
        ((c.function == "all" || c.function == "exists" || c.function == "exists_one" ||
          c.function == "filter" || c.function == "map" || c.function == "optMap" ||
          c.function == "optFlatMap") &&
         c.args.size() == 2) ||
        (c.function == "map" && c.args.size() == 3);
    if (!comprehension) return {};
    const auto* variable = std::get_if<Ident>(&c.args[0].node);
    if (!variable || variable->from_root) {
      return error(c.args[0].offset, c.function + "() needs a variable name as its first argument");
    }
    return {};
  }

  std::vector<Token> tokens_;
  std::size_t at_ = 0;
  int nesting_ = 0;
};

}  // namespace

tl::expected<Expr, SyntaxError> parse(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tl::unexpected(tokens.error());
  RELIANT_ASSERT(!tokens->empty() && tokens->back().kind == TokenKind::end);
  return Parser(std::move(*tokens)).run();
}

SourcePosition position_of(std::string_view source, std::size_t offset) {
  SourcePosition position;
  offset = std::min(offset, source.size());
  for (std::size_t i = 0; i < offset; ++i) {
    const auto byte = static_cast<unsigned char>(source[i]);
    if (byte == '\n') {
      ++position.line;
      position.column = 1;
    } else if ((byte & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++position.column;
    }
  }
  return position;
}

std::string describe(const SyntaxError& error, std::string_view source) {
  const SourcePosition position = position_of(source, error.offset);
  const std::string column = "column " + std::to_string(position.column) + ": " + error.message;
  if (source.find('\n') == std::string_view::npos) return column;
  return "line " + std::to_string(position.line) + ", " + column;
}

}  // namespace reliant::cel
