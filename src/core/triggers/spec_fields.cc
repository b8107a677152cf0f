// Reading trigger specs: messages joined, unknown keys reported.
#include "core/triggers/spec_fields.h"

#include <algorithm>

namespace reliant::triggers {

std::string joined_messages(const FieldErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.message;
  return out;
}

void check_known_keys(const nlohmann::json& object, std::span<const std::string_view> known,
                      std::string_view what, const std::string& pointer, FieldErrors& errors) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string expected;
    for (const auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
    // RFC 6901 escapes "~" and "/" inside a pointer's segment.
    std::string segment;
    for (const char c : key) segment += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    errors.push_back(FieldError{
        pointer + "/" + segment,
        "unknown key \"" + key + "\" in " + std::string(what) + " (expected " + expected + ")",
        true});
  }
}

}  // namespace reliant::triggers
