// UTF-8: strict decoding and encoding of single code points, and validation of whole texts.
#include "base/utf8.h"

#include <simdjson.h>

#include <algorithm>

namespace reliant {

int decode_utf8(std::string_view text, std::size_t at, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  }
  int length = 0;
  std::uint32_t least = 0;  // below it, a shorter sequence was required
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, code_point = lead & 0x1f, least = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, code_point = lead & 0x0f, least = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, code_point = lead & 0x07, least = 0x10000;
  } else {
    return 0;
  }
  if (at + static_cast<std::size_t>(length) > text.size()) return 0;
  for (int k = 1; k < length; ++k) {
    const unsigned char next = byte(at + static_cast<std::size_t>(k));
    if ((next & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (next & 0x3f);
  }
  if (code_point < least || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return 0;
  }
  return length;
}

void append_utf8(std::uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

bool is_valid_utf8(std::string_view text) {
  // simdjson's validator, many bytes an instruction (a tool's every result is checked): it
  // accepts what decode_utf8 does — no overlong form, surrogate or code point past U+10FFFF —
  // which tests/property/utf8_property_test.cc holds it to.
  return simdjson::validate_utf8(text.data(), text.size());
}

std::size_t utf8_prefix_length(std::string_view text, std::size_t bytes_max) {
  const std::size_t cut = std::min(text.size(), bytes_max);
  // Find the last sequence start before the cut (at most 3 continuation bytes back); if its
  // sequence needs more bytes than remain before the cut, leave it out.
  std::size_t start = cut;
  for (int back = 0; back < 4 && start > 0; ++back) {
    --start;
    const auto byte = static_cast<unsigned char>(text[start]);
    if ((byte & 0xC0) == 0x80) continue;
    const std::size_t needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    return start + needed > cut ? start : cut;
  }
  return cut;  // not UTF-8 anyway: repair_utf8 deals with it
}

std::string repair_utf8(std::string_view text) {
  // Fast path: most output is valid and is copied once.
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  std::size_t i = 0;
  std::uint32_t code_point = 0;
  while (i < text.size()) {
    const int length = decode_utf8(text, i, code_point);
    if (length == 0) break;
    i += static_cast<std::size_t>(length);
  }
  out.reserve(text.size() + 16);
  out.append(text.substr(0, i));
  while (i < text.size()) {
    const auto length = static_cast<std::size_t>(decode_utf8(text, i, code_point));
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace reliant
