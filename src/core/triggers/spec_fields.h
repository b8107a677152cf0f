// Reading a trigger's JSON spec: mistakes with the place they are at, so that one parser serves
// both the service (which shows the message) and the workflow loader (which turns the place into
// file:line:column), and the checks every spec makes — unknown keys and choices among names.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"

namespace reliant::triggers {

struct FieldError {
  // RFC 6901 pointer to the value at fault, relative to the spec ("/cron/1"; "" the spec).
  std::string pointer;
  // Complete on its own: "cron[1]: minute: 61 is out of range 0-59 at column 4".
  std::string message;
  // The key at `pointer` is at fault (an unknown key), not its value.
  bool at_key = false;
};

using FieldErrors = std::vector<FieldError>;

// The messages, joined with "; ".
std::string joined_messages(const FieldErrors& errors);

// Reports each key of `object` (a JSON object) outside `known` — a misspelt key must never be
// ignored: `unknown key "filtr" in webhook (expected a, b)`. `pointer` is the object's own.
void check_known_keys(const nlohmann::json& object, std::span<const std::string_view> known,
                      std::string_view what, const std::string& pointer, FieldErrors& errors);

// "a, b or c" of a names table, for a message.
template <typename Enum, std::size_t N>
std::string choices_of(const EnumNames<Enum, N>& names) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += names[i].name;
  }
  return out;
}

// The value `json` names, or a mistake: "overlap must be skip, queue, cancel or allow, not 7".
template <typename Enum, std::size_t N>
std::optional<Enum> choice_at(const nlohmann::json& json, const EnumNames<Enum, N>& names,
                              const std::string& what, const std::string& pointer,
                              FieldErrors& errors) {
  const auto named = json.is_string() ? value_named(names, json.get<std::string>()) : std::nullopt;
  if (!named) {
    errors.push_back(FieldError{
        pointer, what + " must be " + choices_of(names) + ", not " + json.dump(), false});
  }
  return named;
}

}  // namespace reliant::triggers
