// The client commands' precedence of servers and tokens, as a pure function.
#include "core/client_credentials.h"

#include <array>
#include <initializer_list>
#include <tuple>
#include <utility>

#include "base/assert.h"

namespace reliant {
namespace {

std::string_view without_trailing_slashes(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return url;
}

// The first of `candidates`, in order, whose value is not empty; `otherwise` when none is.
template <typename Source>
std::pair<std::string, Source> first_given(
    std::initializer_list<std::pair<std::string_view, Source>> candidates, Source otherwise) {
  for (const auto& [value, source] : candidates) {
    if (!value.empty()) return {std::string(value), source};
  }
  return {std::string(), otherwise};
}

}  // namespace

bool same_server(std::string_view a, std::string_view b) {
  return without_trailing_slashes(a) == without_trailing_slashes(b);
}

ClientCredentials choose_client_credentials(const ClientCredentialSources& s) {
  const bool login_usable =
      s.login.has_value() && !s.login->server.empty() && !s.login->token.empty();
  ClientCredentials out;
  std::tie(out.server, out.server_source) = first_given<ServerSource>(
      {{s.server_flag, ServerSource::flag},
       {s.server_env, ServerSource::environment},
       {s.legacy_server_env, ServerSource::legacy_environment},
       {login_usable && !s.data_dir_given ? s.login->server : "", ServerSource::saved_login}},
      ServerSource::fallback);
  if (out.server.empty()) out.server = std::string(kDefaultClientServer);
  if (out.server_source == ServerSource::legacy_environment) {
    out.warnings.push_back("RELIANT_SERVER is deprecated: set RELIANT_SERVER_URL instead");
  } else if (!s.legacy_server_env.empty()) {
    out.warnings.push_back(
        "RELIANT_SERVER is deprecated and ignored here (--server or RELIANT_SERVER_URL names "
        "the server): unset it");
  }
  const bool login_for_server = login_usable && same_server(s.login->server, out.server);
  std::tie(out.token, out.token_source) =
      first_given<TokenSource>({{s.token_flag, TokenSource::flag},
                                {s.token_env, TokenSource::environment},
                                {login_for_server ? s.login->token : "", TokenSource::saved_login}},
                               TokenSource::data_dir);
  RELIANT_ASSERT(!out.server.empty());
  RELIANT_ASSERT(out.token.empty() == (out.token_source == TokenSource::data_dir));
  return out;
}

std::string_view token_source_name(TokenSource source) {
  // In TokenSource's order.
  static constexpr std::array<std::string_view, 4> kNames = {
      "--token", "RELIANT_TOKEN", "the saved login", "the data directory"};
  const auto index = static_cast<std::size_t>(source);
  RELIANT_ASSERT(index < kNames.size());
  return kNames[index];
}

}  // namespace reliant
