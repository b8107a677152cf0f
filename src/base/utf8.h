// UTF-8 code points: strict decoding of one sequence, and encoding of one code point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reliant {

// The length of the valid UTF-8 sequence at text[at], with its code point in `code_point`; 0
// if it is not one (overlong, a surrogate, beyond U+10FFFF, cut short, a stray byte).
int decode_utf8(std::string_view text, std::size_t at, std::uint32_t& code_point);

// Whether all of `text` is valid UTF-8 (each sequence as decode_utf8 accepts it).
bool is_valid_utf8(std::string_view text);

// The length of the longest prefix of `text` of at most `bytes_max` that does not end inside
// a UTF-8 sequence (whether `text` goes on or was already cut there).
std::size_t utf8_prefix_length(std::string_view text, std::size_t bytes_max);
// `text` with every invalid UTF-8 sequence replaced by U+FFFD (each byte that starts none).
std::string repair_utf8(std::string_view text);

// Appends `code_point` (at most U+10FFFF) in UTF-8.
void append_utf8(std::uint32_t code_point, std::string& out);

}  // namespace reliant
