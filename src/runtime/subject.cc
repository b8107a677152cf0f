// Subject validation and wildcard matching, token by token without allocating.
#include "runtime/subject.h"

#include <string>

namespace reliant {
namespace {

// Splits off the next token; returns false at the end.
bool next_token(std::string_view& rest, std::string_view& token) {
  if (rest.data() == nullptr) return false;
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos) {
    token = rest;
    rest = std::string_view();
  } else {
    token = rest.substr(0, dot);
    rest = rest.substr(dot + 1);
    if (rest.data() == nullptr) rest = std::string_view("", 0);
  }
  return true;
}

Result<void> validate(std::string_view text, bool wildcards, const char* what) {
  if (text.empty()) return fail(ErrorCode::invalid_argument, std::string(what) + " is empty");
  std::string_view rest = text;
  std::string_view token;
  while (next_token(rest, token)) {
    if (token.empty()) {
      return fail(ErrorCode::invalid_argument,
                  std::string(what) + " '" + std::string(text) + "' has an empty token");
    }
    for (char c : token) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
        return fail(ErrorCode::invalid_argument,
                    std::string(what) + " '" + std::string(text) + "' contains whitespace");
      }
    }
    const bool is_wild = token == "*" || token == ">";
    if (is_wild && !wildcards) {
      return fail(ErrorCode::invalid_argument,
                  "subject '" + std::string(text) +
                      "' contains a wildcard; publish needs a literal subject");
    }
    if (token == ">" && rest.data() != nullptr) {
      return fail(ErrorCode::invalid_argument,
                  "pattern '" + std::string(text) + "' has '>' before its last token");
    }
  }
  return {};
}

}  // namespace

Result<void> validate_subject(std::string_view subject) {
  return validate(subject, false, "subject");
}

Result<void> validate_pattern(std::string_view pattern) {
  return validate(pattern, true, "pattern");
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
  std::string_view p = pattern;
  std::string_view s = subject;
  std::string_view pt;
  std::string_view st;
  for (;;) {
    const bool has_p = next_token(p, pt);
    const bool has_s = next_token(s, st);
    if (!has_p) return !has_s;
    if (pt == ">") return has_s;  // '>' needs at least one more token
    if (!has_s) return false;
    if (pt != "*" && pt != st) return false;
  }
}

}  // namespace reliant
