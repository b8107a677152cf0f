// Tolerant reads of the providers' JSON: a missing or mistyped field is "absent", never an
// exception, since a provider may add, drop or change fields without notice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace reliant::llm::wire {

using Json = nlohmann::json;

inline std::string string_at(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::optional<std::int64_t> integer_at(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<std::int64_t>();
}

// The member, or null.
inline const Json& member(const Json& object, const char* key) {
  static const Json null_json;
  if (!object.is_object()) return null_json;
  const auto it = object.find(key);
  return it == object.end() ? null_json : *it;
}

// The start of a provider's text for an error message.
inline std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 200;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "…";
}

}  // namespace reliant::llm::wire
