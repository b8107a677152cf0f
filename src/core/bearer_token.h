// The credentials of an `Authorization: Bearer …` value: the one parser every server face uses
// (REST, gRPC and Connect metadata, the gateway's daemon streams and report calls).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace reliant {

// The token of an `Authorization: Bearer <token>` value; empty when the value is not one. The
// scheme is case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER`), and one or more spaces
// separate it from the token (§11.4).
std::string bearer_token(std::string_view authorization);

// The token of call metadata or stream headers (keys in lower case, as gRPC and the transports
// give them): that of their "authorization" entry; empty when there is none or it is no bearer.
std::string bearer_token(const std::map<std::string, std::string>& metadata);

}  // namespace reliant
