// A guard for JSON from files: nlohmann parses iteratively, but copies, compares and dump()s
// recursively, one stack frame per nesting level, so a few kilobytes of '[' in a header would
// overflow the stack in an error message. nabla's own JSON nests a handful of levels deep; the
// readers refuse anything deeper than kMaxJsonDepth before parsing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nabla::io_detail {

inline constexpr int kMaxJsonDepth = 64;

// Byte offset of the first '[' or '{' (outside strings) nested deeper than `limit`, or npos.
inline size_t json_too_deep(std::string_view text, int limit = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// nlohmann's message without its "[json.exception.out_of_range.406] " prefix. Parsing throws
// more than parse_error: a number too large for a double ("1e999") is out_of_range, so readers
// catch nlohmann's base exception as well and report it with this.
// `text` with bytes outside printable ASCII written as \xNN: a parse error quotes the bytes it
// read last, and when bad UTF-8 is what it complains about, those would garble the message.
inline std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      const char* hex = "0123456789abcdef";
      out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    }
  }
  return out;
}

inline std::string json_error_text(std::string_view what) {
  const size_t end =
      what.rfind("] ", what.find(' ') == std::string_view::npos ? 0 : what.find(' '));
  return std::string(end == std::string_view::npos ? what : what.substr(end + 2));
}

}  // namespace nabla::io_detail
