// The syntax tree of a CEL expression (cel-spec doc/langdef.md), as the parser builds it and the
// evaluator and printer walk it. Operators are calls with cel-spec's internal names ("_+_",
// "_[_]", "!_", "@in" …), so every function and operator is looked up the same way. Macros
// (has, all, exists, exists_one, map, filter) stay calls too; the parser has checked their shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace reliant::cel {

// A bytes literal's value: raw octets, kept apart from strings (which are UTF-8 text).
struct Bytes {
  std::string octets;
  bool operator==(const Bytes&) const = default;
};

// The value of a literal: null, bool, int, uint, double, string or bytes.
using Constant =
    std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Bytes>;

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// A name: a variable, or the first part of a qualified one. `.name` (leading dot) is resolved
// from the root scope only.
struct Ident {
  std::string name;
  bool from_root = false;
};

// `operand.field`, or `operand.?field` (optional: an absent field gives optional.none()).
struct Select {
  ExprPtr operand;
  std::string field;
  bool optional = false;
};

// The operators and functions evaluation meets most, resolved from the name when the tree is
// built, so the evaluator switches on a number instead of comparing names on every call.
enum class Builtin : std::uint8_t {
  unresolved,  // not looked up yet (a tree built by hand): the evaluator resolves it
  other,       // any other function, found by name
  logical_and,
  logical_or,
  conditional,
  logical_not,
  negate,
  equals,
  not_equals,
  less,
  less_equals,
  greater,
  greater_equals,
  in,
  index,
  optional_index,
  add,
  subtract,
  multiply,
  divide,
  modulo,
  size,
  has,
};
Builtin builtin_named(std::string_view function) noexcept;

// `function(args…)` or, with a target, `target.function(args…)`.
struct Call {
  ExprPtr target;  // null for a global call
  std::string function;
  std::vector<Expr> args;
  Builtin builtin = Builtin::unresolved;  // builtin_named(function), set by the parser
};

// `[a, ?b]`: an element marked optional is added only when its optional value is present.
struct ListElement;
struct List {
  std::vector<ListElement> elements;
};

// `{k: v, ?k2: v2}`.
struct MapEntry;
struct Map {
  std::vector<MapEntry> entries;
};

// `pkg.Message{field: value}`: a message construction, of a well-known type or one registered
// in EvalOptions::types (core/cel/messages.h); `type_name` as written (".pkg.M" from the root).
struct FieldInit;
struct Message {
  std::string type_name;
  std::vector<FieldInit> fields;
};

struct Expr {
  // Where the expression is in the source, in bytes: its operator for an operation (the `+`,
  // the `.` of a selection or method call, the `[` of an index), its first character otherwise.
  std::size_t offset = 0;
  std::variant<Constant, Ident, Select, Call, List, Map, Message> node;
};

struct ListElement {
  Expr value;
  bool optional = false;
};

struct MapEntry {
  Expr key;
  Expr value;
  bool optional = false;
};

struct FieldInit {
  std::string field;
  Expr value;
  bool optional = false;
};

// Internal names of the operators, as cel-spec and its implementations call them.
namespace op {
inline constexpr const char* kConditional = "_?_:_";
inline constexpr const char* kLogicalAnd = "_&&_";
inline constexpr const char* kLogicalOr = "_||_";
inline constexpr const char* kLogicalNot = "!_";
inline constexpr const char* kNegate = "-_";
inline constexpr const char* kEquals = "_==_";
inline constexpr const char* kNotEquals = "_!=_";
inline constexpr const char* kLess = "_<_";
inline constexpr const char* kLessEquals = "_<=_";
inline constexpr const char* kGreater = "_>_";
inline constexpr const char* kGreaterEquals = "_>=_";
inline constexpr const char* kIn = "@in";
inline constexpr const char* kAdd = "_+_";
inline constexpr const char* kSubtract = "_-_";
inline constexpr const char* kMultiply = "_*_";
inline constexpr const char* kDivide = "_/_";
inline constexpr const char* kModulo = "_%_";
inline constexpr const char* kIndex = "_[_]";
inline constexpr const char* kOptionalIndex = "_[?_]";
}  // namespace op

// Structural equality, positions ignored: what a print/parse round trip must preserve.
bool same_tree(const Expr& a, const Expr& b);

// The dotted name an identifier or a chain of plain selections on one spells ("a.b.c", or
// ".a.b" from the root), if the expression is such a chain.
std::optional<std::string> qualified_name(const Expr& expr);

}  // namespace reliant::cel
