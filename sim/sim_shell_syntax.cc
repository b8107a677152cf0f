// The simulated shell's syntax (sim_shell_syntax.h).
#include "sim/sim_shell_syntax.h"

#include <charconv>
#include <chrono>
#include <cmath>

namespace reliant::sim {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

Result<std::vector<ChainLink>> parse_chain(std::string_view line) {
  std::vector<ChainLink> links;
  ChainLink current;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        current.text += c;
        current.text += line[++i];
        continue;
      }
      if (c == quote) quote = 0;
      current.text += c;
      continue;
    }
    if (c == '\\' && i + 1 < line.size()) {
      current.text += c;
      current.text += line[++i];
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      current.text += c;
      continue;
    }
    Join next = Join::always;
    bool split = false;
    if (c == ';' || c == '\n') {
      split = true;
    } else if (c == '&' && i + 1 < line.size() && line[i + 1] == '&') {
      split = true;
      next = Join::if_ok;
      ++i;
    } else if (c == '|' && i + 1 < line.size() && line[i + 1] == '|') {
      split = true;
      next = Join::if_failed;
      ++i;
    } else if (c == '|') {
      return fail(ErrorCode::invalid_argument, "pipes are not supported by the simulated shell");
    } else if (c == '&' && (i == 0 || line[i - 1] != '>')) {
      split = true;  // `cmd &`: no job control here, so it simply runs first
    }
    if (!split) {
      current.text += c;
      continue;
    }
    if (!trim(current.text).empty()) links.push_back(std::move(current));
    current = ChainLink{};
    current.join = next;
  }
  if (quote != 0) return fail(ErrorCode::invalid_argument, "Unterminated quoted string");
  if (!trim(current.text).empty()) links.push_back(std::move(current));
  return links;
}

Result<std::vector<std::string>> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < text.size() &&
                 std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
        word += text[++i];
      } else {
        word += c;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
    } else {
      word += c;
    }
  }
  if (quote != 0) return fail(ErrorCode::invalid_argument, "Unterminated quoted string");
  if (in_word) words.push_back(std::move(word));
  return words;
}

Redirect take_redirect(std::vector<std::string>& words) {
  Redirect redirect;
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (w == "2>&1" || w == ">&2" || w == "1>&2") {
      redirect.to_stderr = w != "2>&1";
      continue;
    }
    bool append = false;
    if (w.starts_with(">>")) {
      append = true;
      w.remove_prefix(2);
    } else if (w.starts_with("1>>")) {
      append = true;
      w.remove_prefix(3);
    } else if (w.starts_with(">")) {
      w.remove_prefix(1);
    } else if (w.starts_with("1>")) {
      w.remove_prefix(2);
    } else {
      kept.push_back(words[i]);
      continue;
    }
    redirect.append = append;
    if (!w.empty()) {
      redirect.path = std::string(w);
    } else if (i + 1 < words.size()) {
      redirect.path = words[++i];
    }
  }
  words = std::move(kept);
  return redirect;
}

std::optional<Duration> parse_seconds(std::string_view text) {
  double factor = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        text.remove_suffix(1);
        break;
      case 'm':
        factor = 60;
        text.remove_suffix(1);
        break;
      case 'h':
        factor = 3600;
        text.remove_suffix(1);
        break;
      default:
        break;
    }
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(value * factor));
}

}  // namespace reliant::sim
