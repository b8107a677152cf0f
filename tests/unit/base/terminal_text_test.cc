// What `reliant chat` prints of tool output and answers: text stays, escape sequences (title,
// clear screen, clipboard, colours), C0 and C1 controls go, whole, even when a chunk boundary
// cuts them; invalid UTF-8 becomes U+FFFD.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/terminal_text.h"
#include "base/utf8.h"

namespace reliant {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(TerminalText, KeepsTextNewlinesAndTabs) {
  const std::string text = "héllo ✓ 日本語 🎉\n\tcol1\tcol2\n~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./";
  EXPECT_EQ(strip_terminal_controls(text), text);
  EXPECT_EQ(strip_terminal_controls(""), "");
}

TEST(TerminalText, DropsEscapeSequencesWhole) {
  // OSC 52: write the clipboard, ended by BEL or by ST (ESC \).
  EXPECT_EQ(strip_terminal_controls("a\x1b]52;c;cm0gLXJmIH4=\x07z"), "az");
  EXPECT_EQ(strip_terminal_controls("a\x1b]52;c;cm0gLXJmIH4=\x1b\\z"), "az");
  // OSC 0: the window title.
  EXPECT_EQ(strip_terminal_controls("\x1b]0;you have been pwned\x07ok"), "ok");
  // CSI 2J (clear the screen), cursor moves, colours.
  EXPECT_EQ(strip_terminal_controls("x\x1b[2Jy"), "xy");
  EXPECT_EQ(strip_terminal_controls("\x1b[H\x1b[1;31mred\x1b[0m plain\x1b[?25l"), "red plain");
  // ESC c (full reset) and other two-byte sequences, with and without intermediates.
  EXPECT_EQ(strip_terminal_controls("a\x1b"
                                    "cb\x1b"
                                    "7c\x1b(Bd\x1b#8e"),
            "abcde");
  // DCS, APC, PM, SOS strings.
  EXPECT_EQ(strip_terminal_controls("1\x1bPq#0;2;0;0;0#0!7~\x1b\\2"), "12");
  EXPECT_EQ(strip_terminal_controls("1\x1b_apc\x1b\\2\x1b^pm\x1b\\3\x1bXsos\x1b\\4"), "1234");
  // An ESC inside a string ends it and starts a sequence of its own.
  EXPECT_EQ(strip_terminal_controls("\x1b]0;t\x1b[2Jz"), "z");
}

TEST(TerminalText, DropsC1ControlsRawAndAsUtf8) {
  // 8-bit CSI (0x9B) as a raw byte, and U+009B encoded as UTF-8 (C2 9B): the whole sequence.
  EXPECT_EQ(strip_terminal_controls("a\x9b"
                                    "2Jb"),
            "ab");
  EXPECT_EQ(strip_terminal_controls("a\xc2\x9b"
                                    "2Jb"),
            "ab");
  // 8-bit OSC (9D) up to ST (9C, or C2 9C), or BEL.
  EXPECT_EQ(strip_terminal_controls("a\x9d"
                                    "0;title\x9c"
                                    "b"),
            "ab");
  EXPECT_EQ(strip_terminal_controls("a\xc2\x9d"
                                    "52;c;eA==\xc2\x9c"
                                    "b"),
            "ab");
  EXPECT_EQ(strip_terminal_controls("a\xc2\x9d"
                                    "0;t\x07"
                                    "b"),
            "ab");
  // Other C1 controls (NEL, IND, SS2, …) alone.
  EXPECT_EQ(strip_terminal_controls("a\xc2\x85"
                                    "b\x84"
                                    "c\xc2\x8e"
                                    "d"),
            "abcd");
  // The characters just past the C1 range are text.
  EXPECT_EQ(strip_terminal_controls("\xc2\xa0\xc2\xa9"), "\xc2\xa0\xc2\xa9");
}

TEST(TerminalText, DropsC0ControlsButNewlineAndTab) {
  // Carriage return and backspace would let output overwrite what was printed before it.
  EXPECT_EQ(strip_terminal_controls("safe\rrm -rf ~\n"), "saferm -rf ~\n");
  EXPECT_EQ(strip_terminal_controls(std::string_view("a\bb\x07"
                                                     "c\x7f"
                                                     "d\x0b"
                                                     "e\x0c"
                                                     "f\x00g",
                                                     13)),
            "abcdefg");
  EXPECT_EQ(strip_terminal_controls("line\r\n"), "line\n");
}

TEST(TerminalText, ReplacesInvalidUtf8) {
  EXPECT_EQ(strip_terminal_controls("a\xff"
                                    "b"),
            "a" + kReplacement + "b");
  EXPECT_EQ(strip_terminal_controls("\xc0\xaf"), kReplacement + kReplacement) << "overlong";
  EXPECT_EQ(strip_terminal_controls("\xe6\x97"
                                    "x"),
            kReplacement + "x")
      << "cut short";
  EXPECT_EQ(strip_terminal_controls("\xed\xa0\x80"
                                    "x")
                .find("\xed\xa0"),
            std::string::npos)
      << "no surrogates";
  EXPECT_EQ(strip_terminal_controls("\xf4\x90\x80\x80").find("\xf4"), std::string::npos)
      << "nothing past U+10FFFF";
  EXPECT_EQ(strip_terminal_controls("\xe6\x97"), kReplacement) << "cut short by the end";
}

TEST(TerminalText, SequencesAndCharactersCutBetweenChunksAreHandledWhole) {
  TerminalSanitizer s;
  std::string out = s.feed("a\x1b");
  out += s.feed("]52;c;cm0g");
  out += s.feed("LXJmIH4=\x07");
  out += s.feed("b\x1b[");
  out += s.feed("2");
  out += s.feed("Jc\xc2");
  out += s.feed(
      "\x9b"
      "2J");
  out += s.feed("d\x9b");
  out += s.feed("0me\xe6\x97");
  out += s.feed("\xa5");
  out += s.feed("\x1b]0;t\x1b");
  out += s.feed("\\f");
  out += s.finish();
  EXPECT_EQ(out, "abcde日f");
  // Byte by byte gives the same as all at once.
  const std::string text =
      "x\x1b]0;title\x07y\x1b[31mz\xc2\x9b"
      "1mw日\x9d"
      "0;t\x9c"
      "v";
  TerminalSanitizer bytewise;
  std::string one_by_one;
  for (const char c : text) one_by_one += bytewise.feed(std::string(1, c));
  one_by_one += bytewise.finish();
  EXPECT_EQ(one_by_one, strip_terminal_controls(text));
  EXPECT_EQ(one_by_one, "xyzw日v");
}

TEST(TerminalText, AnUnfinishedSequenceHidesOnlyABoundedAmount) {
  TerminalSanitizer s;
  EXPECT_EQ(s.feed("a\x1b]0;no end"), "a");
  EXPECT_EQ(s.finish(), "") << "dropped at the end";
  EXPECT_EQ(s.feed("fresh"), "fresh") << "as new after finish()";
  const std::string long_string =
      "\x1b]" + std::string(TerminalSanitizer::kControlStringBytesMax + 10, 'p') + "visible";
  const std::string out = strip_terminal_controls(long_string);
  EXPECT_TRUE(out.ends_with("pppvisible")) << "the rest prints as text";
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  const std::string long_csi = "\x1b[" + std::string(200, '1') + "tail";
  EXPECT_TRUE(strip_terminal_controls(long_csi).ends_with("tail"));
}

// Whatever comes in, what goes out is valid UTF-8 with no control but newline and tab.
TEST(TerminalText, OutputIsAlwaysPrintableUtf8) {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  // Bytes drawn mostly from the interesting ones: controls, ESC, sequence bytes, UTF-8 leads.
  std::string alphabet = "\x1b\x07\x9b\x9c\x9d\xc2\xe2\x80\x81\xff\r\n\t[];\\P0aJ";
  alphabet.push_back('\0');
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    const auto size = static_cast<std::size_t>(next() % 64);
    for (std::size_t i = 0; i < size; ++i) {
      const std::uint64_t r = next();
      input.push_back(r % 4 == 0 ? static_cast<char>(r >> 8)
                                 : alphabet[static_cast<std::size_t>((r >> 8) % alphabet.size())]);
    }
    TerminalSanitizer s;
    std::string out;
    std::size_t at = 0;
    while (at < input.size()) {  // in random chunks
      const std::size_t take = std::min<std::size_t>(input.size() - at, 1 + next() % 5);
      out += s.feed(std::string_view(input).substr(at, take));
      at += take;
    }
    out += s.finish();
    EXPECT_EQ(out, strip_terminal_controls(input)) << "chunking changes nothing";
    for (std::size_t i = 0; i < out.size();) {
      std::uint32_t code_point = 0;
      const int length = decode_utf8(out, i, code_point);
      ASSERT_GT(length, 0) << "invalid UTF-8 at " << i;
      EXPECT_FALSE(code_point < 0x20 && code_point != '\n' && code_point != '\t') << code_point;
      EXPECT_FALSE(code_point >= 0x7F && code_point <= 0x9F) << code_point;
      i += static_cast<std::size_t>(length);
    }
  }
}

}  // namespace
}  // namespace reliant
