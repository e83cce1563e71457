// References: fhir.relative_reference, the (type, id) of a `Type/id` reference. Included by
// textwalk.hpp; the tests compare it with the Python function on the same inputs.
#pragma once

#include <string_view>

namespace campus {

using std::string_view;

inline bool is_letter(char c) { return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z'); }

// (type, id) of `Type/id` or `Type/id/_history/version`; false when the text is not one.
inline bool relative_reference(string_view text, string_view& type, string_view& id) {
  size_t size = text.size(), slash = 1;
  if (size < 4 || !('A' <= text[0] && text[0] <= 'Z')) return false;
  while (slash < size) {
    char c = text[slash];
    if (c == '/') break;
    if (!is_letter(c)) return false;
    ++slash;
  }
  if (slash < 2 || slash == size) return false;
  size_t end = slash + 1;
  while (end < size) {
    char c = text[end];
    if (c == '/') break;
    if (!(is_letter(c) || ('0' <= c && c <= '9') || c == '-' || c == '.')) return false;
    ++end;
  }
  if (end == slash + 1 || end - slash - 1 > 64) return false;
  if (end < size) {
    if (text.substr(end, 10) != "/_history/" || size == end + 10) return false;
    if (text.find('/', end + 10) != string_view::npos) return false;
  }
  type = text.substr(0, slash);
  id = text.substr(slash + 1, end - slash - 1);
  return true;
}

}  // namespace campus
