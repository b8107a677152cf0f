// base64url without padding (RFC 4648 §5, as JWTs and PKCE use it).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reliant {

std::string base64url_encode(std::string_view bytes);
// nullopt on a character outside the alphabet or a length no encoding produces.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace reliant
