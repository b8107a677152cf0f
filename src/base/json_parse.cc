// Depth-bounded JSON parsing: simdjson's parser for what it accepts, nlohmann's DOM builder
// behind a depth count for the rest (and for every error message), and a bracket scan.
#include "base/json_parse.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include <simdjson.h>

#include "base/json_parse_paths.h"

namespace reliant {
namespace {

using Json = nlohmann::json;
using DomBuilder = nlohmann::detail::json_sax_dom_parser<Json>;

// nlohmann's messages start with "[json.exception.parse_error.101] ": readers need the rest.
std::string without_exception_tag(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const std::size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

// The DOM builder nlohmann::json::parse uses, with a depth count in front of it. Refusing an
// array or object (returning false) stops the parser there, so nothing deeper is ever built.
// The parser calls a handler through its static type, so hiding the builder's (non-virtual)
// functions is enough.
class DepthBoundedBuilder : public DomBuilder {
 public:
  DepthBoundedBuilder(Json& root, std::size_t depth_max)
      : DomBuilder(root, /*allow_exceptions_=*/false), depth_max_(depth_max) {}

  bool start_object(std::size_t elements) { return enter() && DomBuilder::start_object(elements); }
  bool end_object() {
    --depth_;
    return DomBuilder::end_object();
  }
  bool start_array(std::size_t elements) { return enter() && DomBuilder::start_array(elements); }
  bool end_array() {
    --depth_;
    return DomBuilder::end_array();
  }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& error) {
    syntax_error_ = without_exception_tag(error.what());
    return DomBuilder::parse_error(position, last_token, error);
  }

  bool too_deep() const { return too_deep_; }
  const std::string& syntax_error() const { return syntax_error_; }

 private:
  bool enter() {
    if (depth_ >= depth_max_) {
      too_deep_ = true;
      return false;
    }
    ++depth_;
    return true;
  }

  const std::size_t depth_max_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::string syntax_error_;
};

// The offset of the '[' or '{' that opens level depth_max + 1, if any. Inside a string only its
// closing quote matters, and a backslash hides the byte after it; bytes of multi-byte UTF-8
// characters are never ASCII, so reading bytes is enough.
std::optional<std::size_t> depth_exceeded_at(std::string_view text, std::size_t depth_max) {
  std::size_t depth = 0;
  char quote = 0;  // the quote of the string being read; 0 outside strings
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    switch (c) {
      case '"':
      case '\'':
        quote = c;
        break;
      case '[':
      case '{':
        if (depth == depth_max) return i;
        ++depth;
        break;
      case ']':
      case '}':
        // A stray closer is a syntax error where parsers stop; staying at zero means the
        // brackets after it never count for less than they would in a parser.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

Error too_deep(std::string_view text, std::size_t depth_max) {
  std::string message = "JSON nested deeper than " + std::to_string(depth_max) + " levels";
  // The scan finds the bracket the parser stopped at: both read the same strings up to there.
  if (const auto at = depth_exceeded_at(text, depth_max)) {
    message += " at byte " + std::to_string(*at);
  }
  return {ErrorCode::invalid_argument, std::move(message)};
}

}  // namespace

namespace {

// Documents up to this size go through simdjson; its parser keeps a buffer as large as the
// largest document it has read, once per thread, so larger ones take nlohmann's path.
constexpr std::size_t kFastPathBytesMax = 1 << 20;

// What converting one document needs besides the element.
struct Conversion {
  std::size_t depth_max = 0;
  // Whether "-0" occurs anywhere in the text (looked for once per document): a zero integer
  // may then have been written "-0", which nlohmann types as signed.
  bool may_hold_negative_zero = false;
};

// One simdjson element as nlohmann::json, the way nlohmann's own parser types it: integers
// written without a minus sign are unsigned, with one signed. nullopt when the document nests
// deeper than `depth_max` (counted as parse_json counts it), so the caller's fallback refuses it
// with the precise message.
std::optional<Json> converted(simdjson::dom::element element, std::size_t depth,
                              const Conversion& conversion) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: {
      if (depth >= conversion.depth_max) return std::nullopt;
      Json out = Json::array();
      auto& items = out.get_ref<Json::array_t&>();
      for (simdjson::dom::element item : simdjson::dom::array(element)) {
        auto value = converted(item, depth + 1, conversion);
        if (!value) return std::nullopt;
        items.push_back(std::move(*value));
      }
      return out;
    }
    case simdjson::dom::element_type::OBJECT: {
      if (depth >= conversion.depth_max) return std::nullopt;
      Json out = Json::object();
      auto& fields = out.get_ref<Json::object_t&>();
      for (simdjson::dom::key_value_pair field : simdjson::dom::object(element)) {
        auto value = converted(field.value, depth + 1, conversion);
        if (!value) return std::nullopt;
        // A repeated key keeps its last value, as nlohmann's builder does.
        fields[std::string(field.key)] = std::move(*value);
      }
      return out;
    }
    case simdjson::dom::element_type::INT64: {
      std::int64_t value = 0;
      if (element.get_int64().get(value) != simdjson::SUCCESS) return std::nullopt;
      // A positive int64 was written without a sign. Documents where a zero might have been
      // "-0" take the exact path.
      if (value == 0 && conversion.may_hold_negative_zero) return std::nullopt;
      if (value >= 0) return Json(static_cast<std::uint64_t>(value));
      return Json(value);
    }
    case simdjson::dom::element_type::UINT64: {
      std::uint64_t value = 0;
      if (element.get_uint64().get(value) != simdjson::SUCCESS) return std::nullopt;
      return Json(value);
    }
    case simdjson::dom::element_type::DOUBLE: {
      double value = 0;
      if (element.get_double().get(value) != simdjson::SUCCESS) return std::nullopt;
      return Json(value);
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view value;
      if (element.get_string().get(value) != simdjson::SUCCESS) return std::nullopt;
      return Json(std::string(value));
    }
    case simdjson::dom::element_type::BOOL: {
      bool value = false;
      if (element.get_bool().get(value) != simdjson::SUCCESS) return std::nullopt;
      return Json(value);
    }
    case simdjson::dom::element_type::NULL_VALUE:
      return Json(nullptr);
  }
  return std::nullopt;
}

}  // namespace

namespace json_paths {

std::optional<nlohmann::json> parse_fast(std::string_view text, std::size_t depth_max) {
  if (text.size() > kFastPathBytesMax) return std::nullopt;
  // simdjson refuses nesting deeper than its parser's bound (1024 by default) before it builds
  // anything; what is deeper than depth_max but not than that is refused while converting.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) !=
      simdjson::SUCCESS) {
    return std::nullopt;
  }
  return converted(root, 0, Conversion{depth_max, text.find("-0") != std::string_view::npos});
}

Result<nlohmann::json> parse_exact(std::string_view text, std::size_t depth_max) {
  Json root;
  DepthBoundedBuilder builder(root, depth_max);
  bool parsed = false;
  try {
    parsed = Json::sax_parse(text.data(), text.data() + text.size(), &builder);
  } catch (const Json::exception& e) {
    // The builder is told not to throw; this only keeps a library surprise from crossing here.
    return fail(ErrorCode::invalid_argument, without_exception_tag(e.what()));
  }
  if (parsed) return root;
  if (builder.too_deep()) return fail(too_deep(text, depth_max));
  return fail(ErrorCode::invalid_argument,
              builder.syntax_error().empty() ? "malformed JSON" : builder.syntax_error());
}

}  // namespace json_paths

// simdjson first: it reads a stored history event in a third to a quarter of nlohmann's time
// (history replays and run listings parse thousands a second). Whatever it does not accept,
// nlohmann reads, so errors, a leading byte-order mark and numbers beyond 64 bits behave exactly
// as before; tests/property/json_parse_paths_test.cc checks that both give the same value.
Result<nlohmann::json> parse_json(std::string_view text, std::size_t depth_max) {
  if (auto fast = json_paths::parse_fast(text, depth_max)) return std::move(*fast);
  return json_paths::parse_exact(text, depth_max);
}

nlohmann::json parse_json_or_discarded(std::string_view text, std::size_t depth_max) {
  auto parsed = parse_json(text, depth_max);
  if (!parsed) return Json(Json::value_t::discarded);
  return std::move(*parsed);
}

namespace {

// Equality down to number types, which nlohmann's operator== ignores (unsigned 1 == signed 1 ==
// 1.0 there): the same shape, value and type at every level, an object's keys as a set, a double
// bit for bit (JSON has no NaN).
bool same_json(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::array:
      return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_json);
    case Json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        const auto other = b.find(it.key());
        if (other == b.end() || !same_json(*it, *other)) return false;
      }
      return true;
    }
    case Json::value_t::number_float: {
      const double x = a.get<double>();
      const double y = b.get<double>();
      return x == y && std::signbit(x) == std::signbit(y);
    }
    default:
      return a == b;
  }
}

}  // namespace

namespace json_paths {

std::optional<std::string> disagreement(std::string_view text, std::size_t depth_max) {
  const auto fast = parse_fast(text, depth_max);
  const auto exact = parse_exact(text, depth_max);
  if (fast && !exact) return "simdjson accepted what nlohmann refuses: " + exact.error().message;
  if (fast && !same_json(*fast, *exact)) {
    return "the readers differ: simdjson " + fast->dump() + ", nlohmann " + exact->dump();
  }
  const auto parsed = parse_json(text, depth_max);
  if (parsed.has_value() != exact.has_value()) return "parse_json and nlohmann differ on success";
  if (parsed && !same_json(*parsed, *exact)) return "parse_json's value is not nlohmann's";
  if (!parsed && parsed.error().message != exact.error().message) {
    return "parse_json's error \"" + parsed.error().message + "\" is not nlohmann's \"" +
           exact.error().message + "\"";
  }
  return std::nullopt;
}

}  // namespace json_paths

namespace {
// The field, or null when `json` is not an object or has none.
const Json* field(const Json& json, std::string_view key) {
  if (!json.is_object()) return nullptr;
  const auto it = json.find(key);
  return it == json.end() ? nullptr : &*it;
}
}  // namespace

std::string text_field(const Json& json, std::string_view key, std::string fallback) {
  const Json* value = field(json, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::move(fallback);
}

std::uint64_t unsigned_field(const Json& json, std::string_view key, std::uint64_t fallback) {
  const Json* value = field(json, key);
  return value != nullptr && value->is_number_unsigned() ? value->get<std::uint64_t>() : fallback;
}

std::int64_t integer_field(const Json& json, std::string_view key, std::int64_t fallback) {
  const Json* value = field(json, key);
  if (value == nullptr || !value->is_number_integer()) return fallback;
  if (value->is_number_unsigned() &&
      value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return fallback;
  }
  return value->get<std::int64_t>();
}

bool bool_field(const Json& json, std::string_view key, bool fallback) {
  const Json* value = field(json, key);
  return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

Result<void> check_json_depth(std::string_view text, std::size_t depth_max) {
  if (depth_exceeded_at(text, depth_max)) return fail(too_deep(text, depth_max));
  return {};
}

}  // namespace reliant
