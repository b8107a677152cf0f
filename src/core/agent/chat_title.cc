// Chat titles from first messages, and the check of a title a person gives.
#include "core/agent/chat_title.h"

#include "base/assert.h"

namespace reliant::agent {
namespace {

// White space and control characters: a title shows none but single spaces.
bool is_title_blank(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7F;
}

// Whether `c` starts a character in UTF-8 (it is no continuation byte).
bool starts_utf8_character(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

std::string_view trimmed_title(std::string_view text) {
  while (!text.empty() && is_title_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_title_blank(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string title_from_message(std::string_view message) {
  // The first line with text.
  std::string_view line;
  for (std::size_t lines = 0; !message.empty() && line.empty() && lines < 100'000; ++lines) {
    const std::size_t end = message.find('\n');
    line = trimmed_title(message.substr(0, end));
    message = end == std::string_view::npos ? std::string_view() : message.substr(end + 1);
  }
  // Its blanks as single spaces, its characters counted up to the limit.
  std::string title;
  std::size_t characters = 0;
  std::size_t last_space = std::string::npos;  // in `title`
  bool cut = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (is_title_blank(c)) {
      if (title.back() != ' ') {  // the line is trimmed: title is not empty here
        last_space = title.size();
        title += ' ';
        ++characters;
      }
      continue;
    }
    if (starts_utf8_character(c)) {
      if (characters == kDerivedTitleCharsMax) {
        cut = true;
        break;
      }
      ++characters;
    }
    title += c;
  }
  if (!cut) return title;
  // Cut at a word's end when that keeps at least half of it, and say so.
  if (last_space != std::string::npos && last_space >= title.size() / 2) title.resize(last_space);
  while (!title.empty() && title.back() == ' ') title.pop_back();
  RELIANT_ASSERT(!title.empty());
  return title + "…";
}

Result<std::string> checked_title(std::string_view title) {
  title = trimmed_title(title);
  if (title.empty()) return fail(ErrorCode::invalid_argument, "a chat's title cannot be empty");
  if (title.size() > kChatTitleBytesMax) {
    return fail(ErrorCode::invalid_argument, "the title has " + std::to_string(title.size()) +
                                                 " bytes; a chat's title may have " +
                                                 std::to_string(kChatTitleBytesMax));
  }
  for (const char c : title) {
    if (c != ' ' && is_title_blank(c)) {
      return fail(ErrorCode::invalid_argument,
                  "a chat's title is one line, without control characters");
    }
  }
  return std::string(title);
}

}  // namespace reliant::agent
