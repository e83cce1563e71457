// The dates of a resource: fhir.checked_shift's grammar and arithmetic (a date, dateTime or
// instant moved by a number of days), checked against the same specification. Included by
// textwalk.hpp; the tests compare it with the Python function on the same inputs.
#pragma once

#include <string>
#include <string_view>

namespace campus {

using std::string;
using std::string_view;

constexpr long FIRST_DAY = -719162;  // 0001-01-01
constexpr long LAST_DAY = 2932896;   // 9999-12-31

inline long digits(string_view text, size_t start, size_t count) {
  long value = 0;
  for (size_t index = start; index < start + count; ++index) {
    char c = text[index];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

inline bool valid_time(string_view text) {
  size_t size = text.size();
  if (size < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':') return false;
  long hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  size_t index = 19;
  char c = text[index];
  if (c == '.') {
    index += 1;
    while (index < size) {
      c = text[index];
      if (c < '0' || c > '9') break;
      index += 1;
    }
    if (index == 20 || index > 29 || index == size) return false;
    c = text[index];
  }
  if (c == 'Z') return index + 1 == size;
  if ((c != '+' && c != '-') || size != index + 6 || text[index + 3] != ':') return false;
  hour = digits(text, index + 1, 2);
  minute = digits(text, index + 4, 2);
  if (hour == 14) return minute == 0;
  return 0 <= hour && hour <= 13 && 0 <= minute && minute <= 59;
}

inline long month_days(long year, long month) {
  if (month == 2) return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
  return (month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31;
}

inline long floor_div(long a, long b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

inline long moved(long year, long month, long day, long days) {
  long y = month <= 2 ? year - 1 : year;
  long era = floor_div(y, 400);
  long of_era = y - era * 400;
  long of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  long number = era * 146097 + of_era * 365 + of_era / 4 - of_era / 100 + of_year - 719468;
  number += days;
  if (number < FIRST_DAY) number = FIRST_DAY;
  if (number > LAST_DAY) number = LAST_DAY;
  number += 719468;
  era = floor_div(number, 146097);
  of_era = number - era * 146097;
  y = (of_era - of_era / 1460 + of_era / 36524 - of_era / 146096) / 365;
  of_year = of_era - (365 * y + y / 4 - y / 100);
  long shifted = (5 * of_year + 2) / 153;
  day = of_year - (153 * shifted + 2) / 5 + 1;
  month = shifted < 10 ? shifted + 3 : shifted - 9;
  year = y + era * 400 + (month <= 2 ? 1 : 0);
  return year * 10000 + month * 100 + day;
}

inline void format_day(long packed, size_t size, string& out) {
  char buffer[11];
  long year = packed / 10000, month = packed / 100 % 100, day = packed % 100;
  buffer[0] = char('0' + year / 1000);
  buffer[1] = char('0' + year / 100 % 10);
  buffer[2] = char('0' + year / 10 % 10);
  buffer[3] = char('0' + year % 10);
  buffer[4] = '-';
  buffer[5] = char('0' + month / 10);
  buffer[6] = char('0' + month % 10);
  buffer[7] = '-';
  buffer[8] = char('0' + day / 10);
  buffer[9] = char('0' + day % 10);
  out.append(buffer, size);
}

// Appends `text` moved by `days` to `out`; false (nothing appended) when it is no FHIR date.
inline bool checked_shift(string_view text, long days, string& out) {
  size_t size = text.size();
  if (size < 4) return false;
  long year = digits(text, 0, 4);
  if (year <= 0) return false;
  if (size == 4) {
    if (days == 0)
      out.append(text);
    else
      format_day(moved(year, 7, 1, days), 4, out);
    return true;
  }
  if (size < 7 || text[4] != '-') return false;
  long month = digits(text, 5, 2);
  if (month < 1 || month > 12) return false;
  if (size == 7) {
    if (days == 0)
      out.append(text);
    else
      format_day(moved(year, month, 15, days), 7, out);
    return true;
  }
  if (size < 10 || text[7] != '-') return false;
  long day = digits(text, 8, 2);
  if (day < 1 || day > month_days(year, month)) return false;
  if (size > 10 && !valid_time(text)) return false;
  if (days == 0) {
    out.append(text);
    return true;
  }
  format_day(moved(year, month, day, days), 10, out);
  out.append(text.substr(10));
  return true;
}

}  // namespace campus
