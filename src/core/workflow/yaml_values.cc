// YAML scalars to typed values (YAML 1.2 core schema).
#include "core/workflow/yaml_values.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "base/ascii.h"

namespace reliant::workflow {
namespace {

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

std::optional<cel::Value> core_schema(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    return cel::Value(nullptr);
  if (s == "true" || s == "True" || s == "TRUE") return cel::Value(true);
  if (s == "false" || s == "False" || s == "FALSE") return cel::Value(false);
  std::string_view digits = s;
  if (digits.front() == '-' || digits.front() == '+') digits.remove_prefix(1);
  if (all_of(digits, is_ascii_digit)) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return cel::Value(static_cast<std::int64_t>(v));
    return std::nullopt;  // too large for an int: kept as text
  }
  if (digits.starts_with("0x") || digits.starts_with("0o")) {
    errno = 0;
    char* end = nullptr;
    const auto body = std::string(digits.substr(2));
    const long long v = std::strtoll(body.c_str(), &end, digits[1] == 'x' ? 16 : 8);
    if (errno == 0 && *end == '\0' && !body.empty() && s.front() != '-') {
      return cel::Value(static_cast<std::int64_t>(v));
    }
    return std::nullopt;
  }
  if (digits == ".inf" || digits == ".Inf" || digits == ".INF") {
    return cel::Value(s.front() == '-' ? -std::numeric_limits<double>::infinity()
                                       : std::numeric_limits<double>::infinity());
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return cel::Value(std::nan(""));
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  std::size_t i = 0;
  bool mantissa = false;
  while (i < digits.size() && is_ascii_digit(digits[i])) ++i, mantissa = true;
  if (i < digits.size() && digits[i] == '.') {
    ++i;
    while (i < digits.size() && is_ascii_digit(digits[i])) ++i, mantissa = true;
  }
  if (!mantissa) return std::nullopt;
  if (i < digits.size() && (digits[i] == 'e' || digits[i] == 'E')) {
    ++i;
    if (i < digits.size() && (digits[i] == '-' || digits[i] == '+')) ++i;
    const auto exponent_begin = i;
    while (i < digits.size() && is_ascii_digit(digits[i])) ++i;
    if (i == exponent_begin) return std::nullopt;
  }
  if (i != digits.size()) return std::nullopt;
  return cel::Value(std::strtod(s.c_str(), nullptr));
}

}  // namespace

YAML::Node child(const YAML::Node& map, std::string_view key) {
  if (map.IsMap()) {
    for (const auto& entry : map) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

Mark mark_of(const YAML::Node& node) {
  const auto m = node.Mark();
  return m.line < 0 ? Mark{} : Mark{m.line + 1, m.column + 1};
}

bool is_plain(const YAML::Node& scalar) { return scalar.Tag() == "?"; }

cel::Value scalar_value(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return cel::Value(nullptr);
  if (!node.IsScalar()) return cel::Value(nullptr);
  if (!is_plain(node)) return cel::Value(node.Scalar());
  if (auto typed = core_schema(node.Scalar())) return *typed;
  return cel::Value(node.Scalar());
}

nlohmann::json to_json(const YAML::Node& node) {
  if (node.IsSequence()) {
    auto out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(to_json(item));
    return out;
  }
  if (node.IsMap()) {
    auto out = nlohmann::json::object();
    for (const auto& entry : node) out[entry.first.Scalar()] = to_json(entry.second);
    return out;
  }
  const auto value = scalar_value(node);
  if (const auto* d = value.get_if<double>(); d != nullptr && !std::isfinite(*d)) {
    return nlohmann::json(node.Scalar());  // JSON has no NaN or infinity
  }
  return cel::to_json(value);
}

cel::Value to_value(const YAML::Node& node) {
  if (node.IsSequence()) {
    cel::ValueList items;
    for (const auto& item : node) items.push_back(to_value(item));
    return cel::Value(std::move(items));
  }
  if (node.IsMap()) {
    cel::ValueMap map;
    for (const auto& entry : node)
      map.insert(cel::Value(entry.first.Scalar()), to_value(entry.second));
    return cel::Value(std::move(map));
  }
  return scalar_value(node);
}

std::optional<double> as_double(const cel::Value& value) {
  if (const auto* i = value.get_if<std::int64_t>()) return static_cast<double>(*i);
  if (const auto* u = value.get_if<std::uint64_t>()) return static_cast<double>(*u);
  if (const auto* d = value.get_if<double>()) return *d;
  return std::nullopt;
}

}  // namespace reliant::workflow
