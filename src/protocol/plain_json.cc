// Plain-message JSON by reflection: the same bytes protobuf's util prints, the same messages it
// parses, or a decline.
#include "protocol/plain_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/json_parse.h"
#include "base/utf8.h"

namespace reliant::protocol {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Deeper nesting is declined; codec.cc then refuses it before protobuf's parser sees it (the
// recursion here stays this shallow either way).
constexpr int kDepthMax = static_cast<int>(kJsonDepthMax);

// What printing and parsing need of a type, computed once per type and thread.
struct TypeInfo {
  bool plain = true;
  std::vector<const FieldDescriptor*> by_number;  // the order protobuf prints fields in
  // Both spellings protobuf's parser accepts; the views point into the descriptor pool.
  std::unordered_map<std::string_view, const FieldDescriptor*> by_name;
};

bool plain_field(const FieldDescriptor* field) {
  if (field->is_map()) return false;
  switch (field->type()) {
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BOOL:
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return true;
    case FieldDescriptor::TYPE_MESSAGE:
      return is_plain(field->message_type());
    default:
      return false;
  }
}

const TypeInfo& type_info(const Descriptor* type) {
  thread_local std::unordered_map<const Descriptor*, std::unique_ptr<TypeInfo>> known;
  if (const auto it = known.find(type); it != known.end()) return *it->second;
  // Inserted before its fields are looked at: a recursive type reaches itself and finds it
  // plain so far. (A type visited meanwhile may so be taken for plain while holding one that is
  // not: printing and parsing check every nested type again.)
  TypeInfo& info = *(known[type] = std::make_unique<TypeInfo>());
  info.plain = type->file()->syntax() == FileDescriptor::SYNTAX_PROTO3 &&
               type->file()->name().rfind("google/protobuf/", 0) != 0 &&
               type->oneof_decl_count() == 0;
  for (int i = 0; i < type->field_count() && info.plain; ++i) {
    const FieldDescriptor* field = type->field(i);
    info.plain = plain_field(field);
    info.by_number.push_back(field);
    info.by_name.emplace(field->json_name(), field);
    info.by_name.emplace(field->name(), field);
  }
  std::sort(
      info.by_number.begin(), info.by_number.end(),
      [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
  return info;
}

// ---- printing ----

constexpr char kHex[] = "0123456789abcdef";

void append_u16_escape(std::uint32_t unit, std::string& out) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xf];
}

// The code points above U+009F that protobuf escapes, though JSON does not require it
// (invisible and formatting characters that have caused bugs in JavaScript).
bool escaped_above_latin1(std::uint32_t cp) {
  return cp == 0x00ad || (cp >= 0x0600 && cp <= 0x0603) || cp == 0x06dd || cp == 0x070f ||
         cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
         cp == 0xe0001 || (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0020 && cp <= 0xe007f);
}

bool needs_no_escape(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>';
}

bool print_string(std::string_view s, std::string& out) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = i;
    while (i < s.size() && needs_no_escape(static_cast<unsigned char>(s[i]))) ++i;
    out.append(s.substr(run, i - run));
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == 0x7f) {
            append_u16_escape(c, out);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const int length = decode_utf8(s, i, cp);
    if (length == 0) return false;
    if (cp <= 0x9f || escaped_above_latin1(cp)) {
      if (cp >= 0x10000) {
        append_u16_escape(0xd800 + ((cp - 0x10000) >> 10), out);
        append_u16_escape(0xdc00 + ((cp - 0x10000) & 0x3ff), out);
      } else {
        append_u16_escape(cp, out);
      }
    } else {
      out.append(s.substr(i, static_cast<std::size_t>(length)));
    }
    i += static_cast<std::size_t>(length);
  }
  out += '"';
  return true;
}

template <class Int>
void print_int(Int value, bool quoted, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  if (quoted) out += '"';
  out.append(digits, end);
  if (quoted) out += '"';
}

bool print_message(const Message& message, std::string& out, int depth);

// One value of `field`: the singular one (index < 0) or element `index` of a repeated one.
bool print_value(const Message& message, const FieldDescriptor* field, int index, std::string& out,
                 int depth) {
  const Reflection* r = message.GetReflection();
  const bool one = index < 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& value =
          one ? r->GetStringReference(message, field, &scratch)
              : r->GetRepeatedStringReference(message, field, index, &scratch);
      return print_string(value, out);
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (one ? r->GetBool(message, field) : r->GetRepeatedBool(message, field, index))
                 ? "true"
                 : "false";
      return true;
    case FieldDescriptor::CPPTYPE_INT32:
      print_int(one ? r->GetInt32(message, field) : r->GetRepeatedInt32(message, field, index),
                false, out);
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      print_int(one ? r->GetUInt32(message, field) : r->GetRepeatedUInt32(message, field, index),
                false, out);
      return true;
    case FieldDescriptor::CPPTYPE_INT64:  // quoted: JavaScript's numbers hold 53 bits
      print_int(one ? r->GetInt64(message, field) : r->GetRepeatedInt64(message, field, index),
                true, out);
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      print_int(one ? r->GetUInt64(message, field) : r->GetRepeatedUInt64(message, field, index),
                true, out);
      return true;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return print_message(
          one ? r->GetMessage(message, field) : r->GetRepeatedMessage(message, field, index), out,
          depth + 1);
    default:
      return false;
  }
}

// proto3 without presence: a field at its default value is not printed.
bool is_default(const Message& message, const FieldDescriptor* field) {
  const Reflection* r = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      return r->GetStringReference(message, field, &scratch).empty();
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return !r->GetBool(message, field);
    case FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(message, field) == 0;
    case FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(message, field) == 0;
    case FieldDescriptor::CPPTYPE_INT64:
      return r->GetInt64(message, field) == 0;
    case FieldDescriptor::CPPTYPE_UINT64:
      return r->GetUInt64(message, field) == 0;
    default:  // a message: present or not
      return !r->HasField(message, field);
  }
}

bool print_message(const Message& message, std::string& out, int depth) {
  const TypeInfo& type = type_info(message.GetDescriptor());
  if (!type.plain || depth > kDepthMax) return false;
  const Reflection* r = message.GetReflection();
  out += '{';
  bool first = true;
  for (const FieldDescriptor* field : type.by_number) {
    const int size = field->is_repeated() ? r->FieldSize(message, field) : -1;
    if (size == 0 || (size < 0 && is_default(message, field))) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += field->json_name();
    out += "\":";
    if (size < 0) {
      if (!print_value(message, field, -1, out, depth)) return false;
      continue;
    }
    out += '[';
    for (int i = 0; i < size; ++i) {
      if (i > 0) out += ',';
      if (!print_value(message, field, i, out, depth)) return false;
    }
    out += ']';
  }
  out += '}';
  return true;
}

// ---- parsing ----

// A recursive-descent reader of exactly the JSON it can map without doubt; every other input
// makes it decline (return false), and protobuf decides.
class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  bool document(Message& message) {
    skip_space();
    if (!object(message, 0)) return false;
    skip_space();
    return pos_ == in_.size();
  }

 private:
  bool object(Message& message, int depth) {
    const TypeInfo& type = type_info(message.GetDescriptor());
    if (!type.plain || depth > kDepthMax || !take('{')) return false;
    std::vector<bool> seen(static_cast<std::size_t>(message.GetDescriptor()->field_count()));
    skip_space();
    if (take('}')) return true;
    std::string key;
    for (;;) {
      skip_space();
      key.clear();
      if (!string(key)) return false;
      const auto it = type.by_name.find(key);
      if (it == type.by_name.end()) return false;  // unknown: protobuf words the error
      const FieldDescriptor* field = it->second;
      const auto index = static_cast<std::size_t>(field->index());
      if (seen[index]) return false;
      seen[index] = true;
      skip_space();
      if (!take(':')) return false;
      skip_space();
      if (!(field->is_repeated() ? array(message, field, depth)
                                 : value(message, field, false, depth))) {
        return false;
      }
      skip_space();
      if (take('}')) return true;
      if (!take(',')) return false;
    }
  }

  bool array(Message& message, const FieldDescriptor* field, int depth) {
    if (!take('[')) return false;
    skip_space();
    if (take(']')) return true;
    for (;;) {
      skip_space();
      if (!value(message, field, true, depth)) return false;
      skip_space();
      if (take(']')) return true;
      if (!take(',')) return false;
    }
  }

  bool value(Message& message, const FieldDescriptor* field, bool add, int depth) {
    const Reflection* r = message.GetReflection();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string text;
        if (!string(text)) return false;
        add ? r->AddString(&message, field, std::move(text))
            : r->SetString(&message, field, std::move(text));
        return true;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool b = false;
        if (literal("true")) {
          b = true;
        } else if (!literal("false")) {
          return false;
        }
        add ? r->AddBool(&message, field, b) : r->SetBool(&message, field, b);
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT32: {
        std::int32_t n = 0;
        if (!integer(n)) return false;
        add ? r->AddInt32(&message, field, n) : r->SetInt32(&message, field, n);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        std::uint32_t n = 0;
        if (!integer(n)) return false;
        add ? r->AddUInt32(&message, field, n) : r->SetUInt32(&message, field, n);
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        std::int64_t n = 0;
        if (!integer(n)) return false;
        add ? r->AddInt64(&message, field, n) : r->SetInt64(&message, field, n);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        std::uint64_t n = 0;
        if (!integer(n)) return false;
        add ? r->AddUInt64(&message, field, n) : r->SetUInt64(&message, field, n);
        return true;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return object(add ? *r->AddMessage(&message, field) : *r->MutableMessage(&message, field),
                      depth + 1);
      default:
        return false;
    }
  }

  // An integer as a JSON number or a JSON string, digits only: `-?(0|[1-9][0-9]*)`, in range.
  template <class Int>
  bool integer(Int& n) {
    const bool quoted = take('"');
    const std::size_t start = pos_;
    if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    const std::size_t count = pos_ - digits;
    if (count == 0 || (count > 1 && in_[digits] == '0')) return false;
    if (pos_ - start == 2 && in_[start] == '-' && in_[digits] == '0') return false;  // "-0"
    const auto [end, error] = std::from_chars(in_.data() + start, in_.data() + pos_, n);
    if (error != std::errc() || end != in_.data() + pos_) return false;
    // A fraction or an exponent, or anything else glued on: protobuf's call.
    return quoted ? take('"') : pos_ == in_.size() || !is_number_char(in_[pos_]);
  }

  static bool is_number_char(char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
  }

  // A JSON string into UTF-8. Declines raw control characters, invalid UTF-8 and escapes of
  // lone surrogates.
  bool string(std::string& out) {
    if (!take('"')) return false;
    for (;;) {
      const std::size_t run = pos_;
      while (pos_ < in_.size()) {
        const auto c = static_cast<unsigned char>(in_[pos_]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++pos_;
      }
      out.append(in_.substr(run, pos_ - run));
      if (pos_ >= in_.size()) return false;
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        std::uint32_t cp = 0;
        const int length = decode_utf8(in_, pos_, cp);
        if (length == 0) return false;
        out.append(in_.substr(pos_, static_cast<std::size_t>(length)));
        pos_ += static_cast<std::size_t>(length);
        continue;
      }
      if (!escape(out)) return false;
    }
  }

  bool escape(std::string& out) {
    ++pos_;  // the backslash
    if (pos_ >= in_.size()) return false;
    const char c = in_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    std::uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xdc00 && cp <= 0xdfff) return false;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      std::uint32_t low = 0;
      if (!take('\\') || !take('u') || !hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    append_utf8(cp, out);
    return true;
  }

  bool hex4(std::uint32_t& unit) {
    if (pos_ + 4 > in_.size()) return false;
    for (int k = 0; k < 4; ++k) {
      const char c = in_[pos_++];
      unit <<= 4;
      if (c >= '0' && c <= '9') {
        unit |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        unit |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        unit |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // Takes `word` if it stands alone here (`truefalse` is neither); takes nothing otherwise, so
  // the caller may try another word at the same place.
  bool literal(std::string_view word) {
    const std::size_t end = pos_ + word.size();
    if (in_.substr(pos_, word.size()) != word) return false;
    if (end < in_.size() && std::isalnum(static_cast<unsigned char>(in_[end])) != 0) return false;
    pos_ = end;
    return true;
  }

  bool take(char c) {
    if (pos_ >= in_.size() || in_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  void skip_space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

bool is_plain(const Descriptor* type) { return type_info(type).plain; }

std::optional<std::string> print_plain_json(const Message& message) {
  std::string out;
  out.reserve(static_cast<std::size_t>(message.ByteSizeLong()) + 64);
  if (!print_message(message, out, 0)) return std::nullopt;
  return out;
}

bool parse_plain_json(std::string_view json, Message& message) {
  message.Clear();
  return Parser(json).document(message);
}

}  // namespace reliant::protocol
