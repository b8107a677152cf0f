// Percent-encoding (RFC 3986) and application/x-www-form-urlencoded: query strings, HTML form
// bodies and the URLs the CLI builds.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace reliant {

// Encodes everything but the unreserved characters (A–Z a–z 0–9 - _ . ~).
std::string url_encode(std::string_view text);

// A malformed escape ("%zz", a trailing "%") is kept as written rather than refused.
std::string percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x+y" → {a: 1, b: "x y"}; the first occurrence of a repeated name wins.
std::map<std::string, std::string> parse_form_urlencoded(std::string_view text);

}  // namespace reliant
