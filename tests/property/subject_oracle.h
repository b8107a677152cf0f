// A reference model of NATS subjects (validity and wildcard matching) written independently of
// src/runtime/subject.cc, plus the rapidcheck generators the subject and bus properties share.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <rapidcheck.h>

namespace reliant::property {

// Splits on every '.', keeping empty tokens: "a..b" -> {"a", "", "b"}, "" -> {""}. Keeping them
// is what lets the validity oracle see empty tokens at all.
inline std::vector<std::string> split_tokens(const std::string& text) {
  std::vector<std::string> tokens(1);
  for (char c : text) {
    if (c == '.') {
      tokens.emplace_back();
    } else {
      tokens.back().push_back(c);
    }
  }
  return tokens;
}

inline std::string join_tokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i != 0) out.push_back('.');
    out += tokens[i];
  }
  return out;
}

// The textbook recursive definition: `>` swallows one or more remaining tokens, `*` exactly one,
// anything else must be equal.
inline bool oracle_match_from(const std::vector<std::string>& pattern, std::size_t p,
                              const std::vector<std::string>& subject, std::size_t s) {
  if (p == pattern.size()) return s == subject.size();
  if (pattern[p] == ">") return s < subject.size();
  if (s == subject.size()) return false;
  if (pattern[p] != "*" && pattern[p] != subject[s]) return false;
  return oracle_match_from(pattern, p + 1, subject, s + 1);
}

inline bool oracle_matches(const std::string& pattern, const std::string& subject) {
  return oracle_match_from(split_tokens(pattern), 0, split_tokens(subject), 0);
}

// The whitespace NATS's protocol treats as a separator, so it can never be part of a subject.
inline bool is_subject_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Valid: non-empty tokens without whitespace; `*` and `>` only as whole tokens, only when
// `wildcards` (a subscription pattern), and `>` only as the last token.
inline bool oracle_valid(const std::string& text, bool wildcards) {
  if (text.empty()) return false;
  const auto tokens = split_tokens(text);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    if (token.empty()) return false;
    for (char c : token) {
      if (is_subject_whitespace(c)) return false;
    }
    if (token == "*" || token == ">") {
      if (!wildcards) return false;
      if (token == ">" && i + 1 != tokens.size()) return false;
    }
  }
  return true;
}

inline bool oracle_valid_subject(const std::string& text) { return oracle_valid(text, false); }
inline bool oracle_valid_pattern(const std::string& text) { return oracle_valid(text, true); }

// A small alphabet, so that random subjects and patterns collide (and therefore match) often.
inline rc::Gen<std::string> gen_token() {
  return rc::gen::elementOf(std::vector<std::string>{"a", "b", "c"});
}

// A literal subject of 1..4 tokens.
inline rc::Gen<std::string> gen_subject() {
  return rc::gen::exec([] {
    const int n = *rc::gen::inRange(1, 5);
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) tokens.push_back(*gen_token());
    return join_tokens(tokens);
  });
}

// A valid pattern of 1..4 tokens: `*` anywhere, `>` only last.
inline rc::Gen<std::string> gen_pattern() {
  return rc::gen::exec([] {
    const int n = *rc::gen::inRange(1, 5);
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) {
      const bool last = i + 1 == n;
      tokens.push_back(last ? *rc::gen::elementOf(std::vector<std::string>{"a", "b", "c", "*", ">"})
                            : *rc::gen::elementOf(std::vector<std::string>{"a", "b", "c", "*"}));
    }
    return join_tokens(tokens);
  });
}

// A subject `pattern` matches: each `*` becomes one token, `>` one to three tokens. Random
// subjects alone would rarely match long patterns, leaving the positive side untested.
inline rc::Gen<std::string> gen_subject_matching(const std::string& pattern) {
  return rc::gen::exec([pattern] {
    std::vector<std::string> tokens;
    for (const auto& token : split_tokens(pattern)) {
      if (token == "*") {
        tokens.push_back(*gen_token());
      } else if (token == ">") {
        const int n = *rc::gen::inRange(1, 4);
        for (int i = 0; i < n; ++i) tokens.push_back(*gen_token());
      } else {
        tokens.push_back(token);
      }
    }
    return join_tokens(tokens);
  });
}

// A subject that matches `pattern` about half of the time.
inline rc::Gen<std::string> gen_subject_near(const std::string& pattern) {
  return rc::gen::oneOf(gen_subject(), gen_subject_matching(pattern));
}

// A pattern that matches the literal `subject`: some tokens become `*`, and the tail may become
// `>`.
inline rc::Gen<std::string> gen_pattern_matching(const std::string& subject) {
  return rc::gen::exec([subject] {
    const auto literal = split_tokens(subject);
    const int n = static_cast<int>(literal.size());
    // Index where `>` replaces the rest; n means no `>`.
    const int tail = *rc::gen::inRange(0, n + 1);
    std::vector<std::string> tokens;
    for (int i = 0; i < n && i < tail; ++i) {
      tokens.push_back(*rc::gen::element(true, false) ? std::string("*") : literal[i]);
    }
    if (tail < n) tokens.emplace_back(">");
    return join_tokens(tokens);
  });
}

// Text over an alphabet with every character that matters to validity (dots, wildcards,
// whitespace), mixed with valid subjects and patterns and single-character mutations of them,
// so both sides of every validity rule get exercised.
inline rc::Gen<std::string> gen_any_text() {
  const auto gen_char = rc::gen::elementOf(
      std::vector<char>{'a', 'b', '.', '.', '*', '>', ' ', '\t', '\n', '\r', '\f'});
  const auto noise = rc::gen::exec([gen_char] {
    const int n = *rc::gen::inRange(0, 9);
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(*gen_char);
    return out;
  });
  const auto mutated = rc::gen::exec([gen_char] {
    std::string base = *rc::gen::oneOf(gen_pattern(), gen_subject());
    const auto at = *rc::gen::inRange<std::size_t>(0, base.size() + 1);
    base.insert(base.begin() + static_cast<std::ptrdiff_t>(at), *gen_char);
    return base;
  });
  return rc::gen::oneOf(noise, mutated, gen_pattern(), gen_subject());
}

}  // namespace reliant::property
