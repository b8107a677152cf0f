// UTF-8: strict decoding and encoding of single code points, and validation of whole texts.
#include "base/utf8.h"

#include <simdjson.h>

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

std::string valid_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t at = 0; at < text.size();) {
    std::uint32_t code_point = 0;
    const int length = decode_utf8(text, at, code_point);
    if (length == 0) {
      append_utf8(0xFFFD, out);
      ++at;
      continue;
    }
    out.append(text.substr(at, static_cast<std::size_t>(length)));
    at += static_cast<std::size_t>(length);
  }
  return out;
}

}  // namespace reliant
