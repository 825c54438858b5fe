#include "nabla/suggest.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace nabla {

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);  // one row of the DP table, updated in place
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest_choice(const std::string& value, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const std::string& c : choices) {
    const size_t d = edit_distance(value, c);
    if (d < best_distance && d <= std::max<size_t>(2, c.size() / 3)) best = c, best_distance = d;
  }
  return best;
}

std::string did_you_mean(const std::string& value, const std::vector<std::string>& choices) {
  const std::string close = closest_choice(value, choices);
  return close.empty() ? "" : " (did you mean '" + close + "'?)";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace nabla
