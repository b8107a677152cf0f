// String functions: cel-spec's contains, startsWith and endsWith, and cel-go's strings extension
// (charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split, substring, trim, join).
// Positions count code points, not bytes; every function charges the bytes it reads or builds.
#include <limits>

#include "base/utf8.h"
#include "core/cel/functions.h"

namespace reliant::cel {
namespace {

constexpr std::size_t npos = std::string_view::npos;

bool is_lead(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

// The byte offset where code point `index` starts (the size for one past the last), or npos.
std::size_t byte_offset(std::string_view text, std::int64_t index) {
  if (index < 0) return npos;
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_lead(text[i])) continue;
    if (seen++ == index) return i;
  }
  return seen == index ? text.size() : npos;
}

std::int64_t code_point_index(std::string_view text, std::size_t byte) {
  std::int64_t index = 0;
  for (std::size_t i = 0; i < byte; ++i) index += is_lead(text[i]);
  return index;
}

std::size_t next_code_point(std::string_view text, std::size_t at) {
  do {
    ++at;
  } while (at < text.size() && !is_lead(text[at]));
  return at;
}

const std::string* text_at(const Args& args, std::size_t i) {
  return i < args.size() ? args[i].get_if<std::string>() : nullptr;
}
const std::int64_t* int_at(const Args& args, std::size_t i) {
  return i < args.size() ? args[i].get_if<std::int64_t>() : nullptr;
}

// A method on a string with `count` more arguments: the string, if that is the call's shape.
const std::string* receiver(const Args& args, bool method, std::size_t count) {
  return method && args.size() == count + 1 ? text_at(args, 0) : nullptr;
}

std::optional<CallResult> contains(const Args& args, bool method, CallContext& context) {
  const auto* text = receiver(args, method, 1);
  const auto* part = text_at(args, 1);
  if (!text || !part) return std::nullopt;
  if (!context.budget.charge_bytes(text->size() + part->size())) return budget_exceeded();
  return Value(text->find(*part) != npos);
}

std::optional<CallResult> starts_with(const Args& args, bool method, CallContext& context) {
  const auto* text = receiver(args, method, 1);
  const auto* part = text_at(args, 1);
  if (!text || !part) return std::nullopt;
  if (!context.budget.charge_bytes(part->size())) return budget_exceeded();
  return Value(std::string_view(*text).substr(0, part->size()) == *part);
}

std::optional<CallResult> ends_with(const Args& args, bool method, CallContext& context) {
  const auto* text = receiver(args, method, 1);
  const auto* part = text_at(args, 1);
  if (!text || !part) return std::nullopt;
  if (!context.budget.charge_bytes(part->size())) return budget_exceeded();
  return Value(text->size() >= part->size() &&
               std::string_view(*text).substr(text->size() - part->size()) == *part);
}

std::optional<CallResult> char_at(const Args& args, bool method, CallContext& context) {
  const auto* text = receiver(args, method, 1);
  const auto* index = int_at(args, 1);
  if (!text || !index) return std::nullopt;
  if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
  const std::size_t at = byte_offset(*text, *index);
  if (at == npos) return fail("index out of range: " + std::to_string(*index));
  if (at == text->size()) return Value(std::string());
  return Value(text->substr(at, next_code_point(*text, at) - at));
}

// indexOf and lastIndexOf: the code point index of `part` from an optional starting index.
std::optional<CallResult> index_of(const Args& args, bool method, CallContext& context, bool last) {
  const auto* text = method && (args.size() == 2 || args.size() == 3) ? text_at(args, 0) : nullptr;
  const auto* part = text_at(args, 1);
  const auto* from = args.size() == 3 ? int_at(args, 2) : nullptr;
  if (!text || !part || (args.size() == 3 && !from)) return std::nullopt;
  if (!context.budget.charge_bytes(text->size() + part->size())) return budget_exceeded();
  std::size_t start = last ? text->size() : 0;
  if (from) {
    start = byte_offset(*text, *from);
    if (start == npos) return fail("index out of range: " + std::to_string(*from));
  }
  const std::size_t found = last ? text->rfind(*part, start) : text->find(*part, start);
  if (found == npos) return Value(std::int64_t{-1});
  return Value(code_point_index(*text, found));
}

std::optional<CallResult> index_of_first(const Args& args, bool method, CallContext& context) {
  return index_of(args, method, context, false);
}
std::optional<CallResult> index_of_last(const Args& args, bool method, CallContext& context) {
  return index_of(args, method, context, true);
}

std::optional<CallResult> change_case(const Args& args, bool method, CallContext& context,
                                      char from, char to) {
  const auto* text = receiver(args, method, 0);
  if (!text) return std::nullopt;
  if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
  std::string out = *text;
  for (char& c : out) {
    if (c >= from && c < from + 26) c = static_cast<char>(c - from + to);
  }
  return Value(std::move(out));
}

std::optional<CallResult> lower_ascii(const Args& args, bool method, CallContext& context) {
  return change_case(args, method, context, 'A', 'a');
}
std::optional<CallResult> upper_ascii(const Args& args, bool method, CallContext& context) {
  return change_case(args, method, context, 'a', 'A');
}

// replace(old, new[, n]): the first n matches (all when n < 0), left to right, as Go's
// strings.Replace: an empty `old` matches before every code point and at the end.
std::optional<CallResult> replace(const Args& args, bool method, CallContext& context) {
  const auto* text = method && (args.size() == 3 || args.size() == 4) ? text_at(args, 0) : nullptr;
  const auto* old_part = text_at(args, 1);
  const auto* new_part = text_at(args, 2);
  const auto* limit = args.size() == 4 ? int_at(args, 3) : nullptr;
  if (!text || !old_part || !new_part || (args.size() == 4 && !limit)) return std::nullopt;
  if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
  const std::int64_t wanted =
      limit && *limit >= 0 ? *limit : std::numeric_limits<std::int64_t>::max();
  // The matches first, so the result's size is charged before it is built.
  std::vector<std::size_t> matches;
  for (std::size_t at = 0; static_cast<std::int64_t>(matches.size()) < wanted;) {
    const std::size_t found = text->find(*old_part, at);
    if (found == npos) break;
    matches.push_back(found);
    if (found == text->size()) break;
    at = old_part->empty() ? next_code_point(*text, found) : found + old_part->size();
    if (!context.budget.charge(1)) return budget_exceeded();
  }
  const std::size_t size = text->size() + matches.size() * new_part->size();
  if (!context.budget.charge_bytes(size)) return budget_exceeded();
  std::string out;
  out.reserve(size);
  std::size_t copied = 0;
  for (std::size_t found : matches) {
    out.append(*text, copied, found - copied);
    out += *new_part;
    copied = found + old_part->size();
  }
  out.append(*text, copied);
  return Value(std::move(out));
}

// split(separator[, n]): at most n parts (all when n < 0), the last holding the rest; an empty
// separator splits between code points.
std::optional<CallResult> split(const Args& args, bool method, CallContext& context) {
  const auto* text = method && (args.size() == 2 || args.size() == 3) ? text_at(args, 0) : nullptr;
  const auto* separator = text_at(args, 1);
  const auto* limit = args.size() == 3 ? int_at(args, 2) : nullptr;
  if (!text || !separator || (args.size() == 3 && !limit)) return std::nullopt;
  if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
  const std::int64_t wanted =
      limit && *limit >= 0 ? *limit : std::numeric_limits<std::int64_t>::max();
  ValueList parts;
  std::size_t at = 0;
  while (static_cast<std::int64_t>(parts.size()) + 1 < wanted && at < text->size()) {
    if (!context.budget.charge(1)) return budget_exceeded();
    const std::size_t end =
        separator->empty() ? next_code_point(*text, at) : text->find(*separator, at);
    if (end == npos) break;
    parts.push_back(Value(text->substr(at, end - at)));
    at = end + separator->size();
  }
  if (wanted > 0 && (at < text->size() || !separator->empty())) {
    parts.push_back(Value(text->substr(std::min(at, text->size()))));
  }
  return Value(std::move(parts));
}

std::optional<CallResult> substring(const Args& args, bool method, CallContext& context) {
  const auto* text = method && (args.size() == 2 || args.size() == 3) ? text_at(args, 0) : nullptr;
  const auto* start = int_at(args, 1);
  const auto* end = args.size() == 3 ? int_at(args, 2) : nullptr;
  if (!text || !start || (args.size() == 3 && !end)) return std::nullopt;
  if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
  const std::size_t from = byte_offset(*text, *start);
  if (from == npos) return fail("index out of range: " + std::to_string(*start));
  std::size_t to = text->size();
  if (end) {
    if (*end < *start) {
      return fail("invalid substring range: start " + std::to_string(*start) + ", end " +
                  std::to_string(*end));
    }
    to = byte_offset(*text, *end);
    if (to == npos) return fail("index out of range: " + std::to_string(*end));
  }
  return Value(text->substr(from, to - from));
}

// White space as Unicode defines it (Go's unicode.IsSpace).
bool is_space(std::uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::optional<CallResult> trim(const Args& args, bool method, CallContext& context) {
  const auto* text = receiver(args, method, 0);
  if (!text) return std::nullopt;
  if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
  std::size_t begin = 0, end = text->size();
  std::uint32_t c = 0;
  while (begin < end) {
    const int length = decode_utf8(*text, begin, c);
    if (length == 0 || !is_space(c)) break;
    begin += static_cast<std::size_t>(length);
  }
  while (end > begin) {
    std::size_t start = end - 1;
    while (start > begin && !is_lead((*text)[start])) --start;
    const int length = decode_utf8(*text, start, c);
    if (length == 0 || start + static_cast<std::size_t>(length) != end || !is_space(c)) break;
    end = start;
  }
  return Value(text->substr(begin, end - begin));
}

// list.join([separator]): the list's strings, separated.
std::optional<CallResult> join(const Args& args, bool method, CallContext& context) {
  const ValueList* list = method && !args.empty() ? args[0].list() : nullptr;
  const auto* separator = args.size() == 2 ? text_at(args, 1) : nullptr;
  if (!list || args.size() > 2 || (args.size() == 2 && !separator)) return std::nullopt;
  std::size_t size = 0;
  for (const Value& element : *list) {
    const auto* text = element.get_if<std::string>();
    if (!text)
      return fail("join: list element of type '" + std::string(element.type_name()) +
                  "' is not a string");
    size += text->size() + (separator ? separator->size() : 0);
  }
  if (!context.budget.charge(static_cast<std::int64_t>(list->size())) ||
      !context.budget.charge_bytes(size)) {
    return budget_exceeded();
  }
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (i > 0 && separator) out += *separator;
    out += *(*list)[i].get_if<std::string>();
  }
  return Value(std::move(out));
}

}  // namespace

void add_string_functions(FunctionTable& table) {
  add_function(table, "contains", contains);
  add_function(table, "startsWith", starts_with);
  add_function(table, "endsWith", ends_with);
  add_function(table, "charAt", char_at);
  add_function(table, "indexOf", index_of_first);
  add_function(table, "lastIndexOf", index_of_last);
  add_function(table, "lowerAscii", lower_ascii);
  add_function(table, "upperAscii", upper_ascii);
  add_function(table, "replace", replace);
  add_function(table, "split", split);
  add_function(table, "substring", substring);
  add_function(table, "trim", trim);
  add_function(table, "join", join);
}

}  // namespace reliant::cel
