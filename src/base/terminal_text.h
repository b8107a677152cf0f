// Text from elsewhere (tool output, a model's answer, a server's message) made safe to print on
// a terminal: escape sequences would let it set the window title, clear the screen, move the
// cursor over what was printed or write the clipboard (OSC 52).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reliant {

// Keeps printable UTF-8 text, newlines and tabs. Drops every other C0 control (carriage
// return and backspace included: they overwrite what was printed), DEL, C1 controls (U+0080 to
// U+009F, as UTF-8 or as raw bytes) and whole escape sequences: ESC and 8-bit CSI sequences,
// OSC, DCS, SOS, PM and APC strings up to their BEL or ST. Invalid UTF-8 becomes U+FFFD.
//
// Fed in chunks, it carries a sequence or a character cut between two chunks over to the
// next, so a sequence split across chunks is removed whole. A control string is dropped for at
// most kControlStringBytesMax, a CSI sequence for at most kCsiBytesMax; past that the rest
// prints as text (harmless: the terminal never saw the introducer), so an unterminated
// sequence cannot hide everything after it.
class TerminalSanitizer {
 public:
  static constexpr std::size_t kControlStringBytesMax = 4096;
  static constexpr std::size_t kCsiBytesMax = 64;

  // What of `bytes` may be printed, given the chunks fed before.
  std::string feed(std::string_view bytes);
  // The end of the text: a character cut short becomes U+FFFD, an unfinished sequence is
  // dropped; the sanitizer is then as new.
  std::string finish();

 private:
  enum class State { ground, escape, escape_intermediate, csi, control_string, string_escape };

  // Handles one byte; false when the byte ended a state without being consumed and must be
  // handled again in the new one.
  bool step(std::uint8_t byte, std::string& out);
  bool ground(std::uint8_t byte, std::string& out);
  void c1_control(std::uint32_t code_point);
  void enter(State state);

  State state_ = State::ground;
  std::size_t sequence_bytes_ = 0;  // bytes of the current CSI sequence or control string
  // A UTF-8 character being read: its bytes so far, how many more it needs and the range the
  // next one must be in (narrower than 80..BF after E0, ED, F0 and F4: no overlong forms,
  // surrogates or code points past U+10FFFF).
  std::string pending_;
  int needed_ = 0;
  std::uint8_t next_min_ = 0x80;
  std::uint8_t next_max_ = 0xBF;
};

// One complete text at once: TerminalSanitizer's feed() and finish().
std::string strip_terminal_controls(std::string_view text);

}  // namespace reliant
