// A byte-at-a-time reader of ECMA-48 control functions that keeps only the text between them.
#include "base/terminal_text.h"

#include "base/assert.h"

namespace reliant {
namespace {

constexpr std::uint8_t kEsc = 0x1B;
constexpr std::uint8_t kBel = 0x07;
constexpr std::uint8_t kCan = 0x18;  // CAN and SUB abort a sequence
constexpr std::uint8_t kSub = 0x1A;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::string TerminalSanitizer::feed(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<std::uint8_t>(c);
    // A byte is handed back at most twice: the state it ends always takes it in the next.
    bool taken = step(byte, out);
    if (!taken) taken = step(byte, out);
    if (!taken) taken = step(byte, out);
    RELIANT_ASSERT(taken);
  }
  return out;
}

std::string TerminalSanitizer::finish() {
  std::string out;
  if (needed_ > 0) out += kReplacement;
  *this = TerminalSanitizer();
  return out;
}

void TerminalSanitizer::enter(State state) {
  state_ = state;
  sequence_bytes_ = 0;
}

// The C1 controls that open a sequence start it, as their 7-bit forms (ESC [, ESC ], …) would;
// the others are dropped.
void TerminalSanitizer::c1_control(std::uint32_t code_point) {
  switch (code_point) {
    case 0x9B:  // CSI
      enter(State::csi);
      break;
    case 0x90:  // DCS
    case 0x98:  // SOS
    case 0x9D:  // OSC
    case 0x9E:  // PM
    case 0x9F:  // APC
      enter(State::control_string);
      break;
    default:
      break;
  }
}

bool TerminalSanitizer::ground(std::uint8_t byte, std::string& out) {
  if (needed_ > 0) {
    if (byte < next_min_ || byte > next_max_) {
      // Cut short: the bytes so far are one bad character, and this byte starts afresh.
      out += kReplacement;
      pending_.clear();
      needed_ = 0;
      return false;
    }
    pending_.push_back(static_cast<char>(byte));
    next_min_ = 0x80;
    next_max_ = 0xBF;
    if (--needed_ > 0) return true;
    const auto lead = static_cast<std::uint8_t>(pending_[0]);
    if (lead == 0xC2 && byte <= 0x9F) {
      c1_control(byte);  // U+0080..U+009F: C2 80..C2 9F
    } else {
      out += pending_;
    }
    pending_.clear();
    return true;
  }
  if (byte < 0x80) {
    if (byte == '\n' || byte == '\t' || (byte >= 0x20 && byte < 0x7F)) {
      out.push_back(static_cast<char>(byte));
    } else if (byte == kEsc) {
      enter(State::escape);
    }
    return true;  // any other C0 control, and DEL, is dropped
  }
  if (byte <= 0x9F) {
    c1_control(byte);  // a raw 8-bit C1 control (never valid UTF-8)
    return true;
  }
  int more = 0;
  std::uint8_t min = 0x80, max = 0xBF;
  if (byte >= 0xC2 && byte <= 0xDF) {
    more = 1;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    more = 2;
    if (byte == 0xE0) min = 0xA0;  // no overlong forms
    if (byte == 0xED) max = 0x9F;  // no surrogates
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    more = 3;
    if (byte == 0xF0) min = 0x90;  // no overlong forms
    if (byte == 0xF4) max = 0x8F;  // nothing past U+10FFFF
  } else {
    out += kReplacement;  // A0..BF alone, C0, C1, F5..FF: never valid here
    return true;
  }
  pending_.assign(1, static_cast<char>(byte));
  needed_ = more;
  next_min_ = min;
  next_max_ = max;
  return true;
}

bool TerminalSanitizer::step(std::uint8_t byte, std::string& out) {
  switch (state_) {
    case State::ground:
      return ground(byte, out);
    case State::escape:
      if (byte == '[') {
        enter(State::csi);
      } else if (byte == ']' || byte == 'P' || byte == 'X' || byte == '^' || byte == '_') {
        enter(State::control_string);  // OSC, DCS, SOS, PM, APC
      } else if (byte >= 0x20 && byte <= 0x2F) {
        enter(State::escape_intermediate);
      } else if (byte == kEsc) {
        enter(State::escape);
      } else if (byte >= 0x30 && byte <= 0x7E) {
        enter(State::ground);  // a two-byte sequence: ESC c (reset), ESC 7, ESC M, …
      } else if (byte == kCan || byte == kSub) {
        enter(State::ground);
      } else {
        enter(State::ground);  // not a sequence after all: the byte is text, or a control
        return false;
      }
      return true;
    case State::escape_intermediate:
      if (byte >= 0x20 && byte <= 0x2F) return true;
      if (byte == kEsc) {
        enter(State::escape);
        return true;
      }
      enter(State::ground);
      return byte >= 0x30 && byte <= 0x7E;  // the final byte ends it; anything else is reread
    case State::csi:
      if (byte >= 0x40 && byte <= 0x7E) {
        enter(State::ground);  // the final byte
        return true;
      }
      if (byte == kEsc) {
        enter(State::escape);
        return true;
      }
      if (byte == kCan || byte == kSub) {
        enter(State::ground);
        return true;
      }
      if (byte >= 0x80) {
        enter(State::ground);
        return false;
      }
      if (++sequence_bytes_ > kCsiBytesMax) enter(State::ground);
      return true;  // parameters and intermediates (and C0 controls, dropped)
    case State::control_string:
      // BEL ends an OSC (xterm); ST is ESC \, 9C or C2 9C. Any 9C ends the string, even one
      // inside a character: ending early only prints the rest as text.
      if (byte == kBel || byte == kCan || byte == kSub || byte == 0x9C) {
        enter(State::ground);
        return true;
      }
      if (byte == kEsc) {
        enter(State::string_escape);
        return true;
      }
      if (++sequence_bytes_ > kControlStringBytesMax) enter(State::ground);
      return true;
    case State::string_escape:
      if (byte == '\\') {
        enter(State::ground);  // ESC \ is ST
        return true;
      }
      enter(State::escape);  // the string ended at the ESC, which starts a sequence of its own
      return false;
  }
  return true;
}

std::string strip_terminal_controls(std::string_view text) {
  TerminalSanitizer sanitizer;
  std::string out = sanitizer.feed(text);
  out += sanitizer.finish();
  return out;
}

}  // namespace reliant
