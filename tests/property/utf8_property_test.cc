// is_valid_utf8 (simdjson's validator) against decode_utf8 (ours, one sequence at a time) on
// texts made to sit on UTF-8's edges: valid sequences of every length next to overlong forms,
// surrogates, code points past U+10FFFF, stray continuation bytes and sequences cut short, at
// any offset of texts long enough to cross the validator's blocks.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "base/utf8.h"
#include "property/property_check.h"

namespace reliant::property {
namespace {

// What decode_utf8 says of the whole text: valid when its sequences cover it exactly.
bool decodes_whole(const std::string& text) {
  for (std::size_t at = 0; at < text.size();) {
    std::uint32_t code_point = 0;
    const int length = decode_utf8(text, at, code_point);
    if (length == 0) return false;
    at += static_cast<std::size_t>(length);
  }
  return true;
}

// One piece of a text: a valid code point near a boundary of UTF-8's ranges, or bytes that
// break a rule.
rc::Gen<std::string> piece() {
  static const std::vector<std::uint32_t> edges{0x0,    0x41,   0x7F,   0x80,   0x7FF,   0x800,
                                                0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
  static const std::vector<std::string> broken{
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong ASCII
      "\xE0\x80\x80",      // overlong three bytes
      "\xF0\x80\x80\x80",  // overlong four bytes
      "\xED\xA0\x80",      // a surrogate
      "\xED\xBF\xBF",      // the last surrogate
      "\xF4\x90\x80\x80",  // past U+10FFFF
      "\xF5\x80\x80\x80",  // a lead past F4
      "\xFF",
      "\x80",
      "\xBF",          // never a lead
      "\xC3",          // cut short
      "\xE2\x82",      // cut short
      "\xF0\x9F\x98",  // cut short
  };
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::elementOf(edges),
                   [](std::uint32_t code_point) {
                     std::string out;
                     append_utf8(code_point, out);
                     return out;
                   }),
      rc::gen::map(rc::gen::inRange<std::uint32_t>(0, 0x110000),
                   [](std::uint32_t code_point) {
                     if (code_point >= 0xD800 && code_point <= 0xDFFF) code_point = 0x41;
                     std::string out;
                     append_utf8(code_point, out);
                     return out;
                   }),
      rc::gen::map(rc::gen::inRange(0, 80), [](int n) { return std::string(n, 'a'); }),
      rc::gen::elementOf(broken),
      rc::gen::map(rc::gen::arbitrary<std::uint8_t>(),
                   [](std::uint8_t byte) { return std::string(1, static_cast<char>(byte)); }));
}

TEST(Utf8Property, TheValidatorAcceptsExactlyWhatTheDecoderDecodes) {
  check_property(2000, [] {
    const auto pieces = *rc::gen::container<std::vector<std::string>>(piece());
    std::string text;
    for (const auto& p : pieces) text += p;
    RC_ASSERT(is_valid_utf8(text) == decodes_whole(text));
  });
}

// repair_utf8 gives valid UTF-8 for any text, leaves valid text as it is, and keeps every valid
// sequence of a broken text in order (each byte that starts none becoming U+FFFD).
TEST(Utf8Property, RepairUtf8ReplacesWhatIsNotAndKeepsWhatIs) {
  check_property(2000, [] {
    const auto pieces = *rc::gen::container<std::vector<std::string>>(piece());
    std::string text;
    for (const auto& p : pieces) text += p;
    const std::string valid = repair_utf8(text);
    RC_ASSERT(is_valid_utf8(valid));
    if (is_valid_utf8(text)) RC_ASSERT(valid == text);
    std::string expected;
    for (std::size_t at = 0; at < text.size();) {
      std::uint32_t code_point = 0;
      const int length = decode_utf8(text, at, code_point);
      append_utf8(length == 0 ? 0xFFFD : code_point, expected);
      at += length == 0 ? 1 : static_cast<std::size_t>(length);
    }
    RC_ASSERT(valid == expected);
  });
}

}  // namespace
}  // namespace reliant::property
