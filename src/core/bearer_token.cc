// The bearer-token parser (bearer_token.h).
#include "core/bearer_token.h"

namespace reliant {

std::string bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  std::size_t at = kScheme.size();
  if (authorization[at] != ' ') return {};  // "Bearerx…" is another scheme
  while (at < authorization.size() && authorization[at] == ' ') ++at;
  return std::string(authorization.substr(at));
}

std::string bearer_token(const std::map<std::string, std::string>& metadata) {
  const auto it = metadata.find("authorization");
  return it == metadata.end() ? std::string() : bearer_token(std::string_view(it->second));
}

}  // namespace reliant
