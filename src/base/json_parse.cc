// Depth-bounded JSON parsing: nlohmann's DOM builder behind a depth count, and a bracket scan.
#include "base/json_parse.h"

#include <optional>
#include <string>
#include <utility>

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

Result<nlohmann::json> parse_json(std::string_view text, std::size_t depth_max) {
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

nlohmann::json parse_json_or_discarded(std::string_view text, std::size_t depth_max) {
  auto parsed = parse_json(text, depth_max);
  if (!parsed) return Json(Json::value_t::discarded);
  return std::move(*parsed);
}

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
