// The 64-bit Mersenne Twister (Matsumoto and Nishimura 2000): the numbers, the seeding and the
// textual state of std::mt19937_64, bit for bit, with the state's regeneration written over
// vectors. std's regenerates its 312 words one at a time, and that was most of the cost of a
// dropout mask (6 ns a draw on the Zen 5 here); the recurrence allows 156 words at a time, so
// here it runs as whole vectors. fill() hands out many tempered draws at once, tempering them as
// vectors too. Tests check it against std::mt19937_64.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>

namespace nabla::detail {

class Mt19937_64 {
 public:
  static constexpr int kWords = 312;  // n
  static constexpr int kShift = 156;  // m

  explicit Mt19937_64(uint64_t seed = 5489u) { this->seed(seed); }
  void seed(uint64_t seed);

  uint64_t operator()() {
    if (next_ == kWords) regenerate();
    return temper(words_[next_++]);
  }
  // out[0 .. n) = the next n draws, as n calls would give them.
  void fill(uint64_t* out, int64_t n);
  void discard(uint64_t n);

  // std::mt19937_64's textual form: the 312 words and the position, separated by spaces.
  friend std::ostream& operator<<(std::ostream& out, const Mt19937_64& e);
  // Sets failbit (and leaves e unchanged) on text that is not that form.
  friend std::istream& operator>>(std::istream& in, Mt19937_64& e);
  friend bool operator==(const Mt19937_64&, const Mt19937_64&) = default;

 private:
  // One word (uint64_t) or a vector of words (fill's, lane-wise).
  template <class W>
  static W temper(W y) {
    y ^= (y >> 29) & 0x5555555555555555ULL;
    y ^= (y << 17) & 0x71D67FFFEDA60000ULL;
    y ^= (y << 37) & 0xFFF7EEE000000000ULL;
    return y ^ (y >> 43);
  }
  void regenerate();  // the next 312 words; next_ = 0

  uint64_t words_[kWords];
  int next_ = kWords;  // the word the next draw tempers
};

}  // namespace nabla::detail
