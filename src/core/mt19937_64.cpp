// nabla::detail::Mt19937_64: std::mt19937_64's recurrence over vectors of words.
#include "nabla/detail/mt19937_64.h"

#include <algorithm>
#include <cstring>

namespace nabla::detail {
namespace {

// GCC's generic vectors of two words: SSE2's registers, which every x86-64 has (the library's
// baseline build; 32-byte vectors there would be passed by another ABI).
typedef uint64_t Words __attribute__((vector_size(16)));
constexpr int kLanes = 2;

constexpr uint64_t kUpper = 0xFFFFFFFF80000000ULL;  // the top 33 bits of x[i]
constexpr uint64_t kLower = 0x7FFFFFFFULL;          // the low 31 bits of x[i + 1]
constexpr uint64_t kMatrix = 0xB5026F5AA96619E9ULL;

Words load(const uint64_t* p) {
  Words v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store(uint64_t* p, Words v) {
  std::memcpy(p, &v, sizeof v);
}

// x[i]'s next value from x[i], x[i + 1] and the word m places on: the recurrence, for one word
// or lane-wise for a vector of them (-(y & 1) is all ones where y is odd).
template <class W>
W next(W x, W x1, W xm) {
  const W y = (x & kUpper) | (x1 & kLower);
  return xm ^ (y >> 1) ^ (-(y & 1) & kMatrix);
}

}  // namespace

void Mt19937_64::seed(uint64_t seed) {
  words_[0] = seed;
  for (int i = 1; i < kWords; ++i)
    words_[i] = 6364136223846793005ULL * (words_[i - 1] ^ (words_[i - 1] >> 62)) + uint64_t(i);
  next_ = kWords;
}

void Mt19937_64::regenerate() {
  static_assert((kWords - kShift) % kLanes == 0 && kShift >= kLanes);
  uint64_t* x = words_;
  // Words below n − m take word i + m from before this pass, words from n − m on take word
  // i + m − n from this pass, already made (m ≥ a vector's lanes back); x[i + 1] is always
  // from before, since a vector is stored only after the next one's loads would need it.
  int i = 0;
  for (; i < kWords - kShift; i += kLanes)
    store(x + i, next(load(x + i), load(x + i + 1), load(x + i + kShift)));
  for (; i + kLanes < kWords; i += kLanes)
    store(x + i, next(load(x + i), load(x + i + 1), load(x + i + kShift - kWords)));
  for (; i < kWords - 1; ++i) x[i] = next(x[i], x[i + 1], x[i + kShift - kWords]);
  x[kWords - 1] = next(x[kWords - 1], x[0], x[kShift - 1]);
  next_ = 0;
}

void Mt19937_64::fill(uint64_t* out, int64_t n) {
  while (n > 0) {
    if (next_ == kWords) regenerate();
    const int k = int(std::min<int64_t>(n, kWords - next_));
    int j = 0;
    for (; j + kLanes <= k; j += kLanes) store(out + j, temper(load(words_ + next_ + j)));
    for (; j < k; ++j) out[j] = temper(words_[next_ + j]);
    next_ += k, out += k, n -= k;
  }
}

void Mt19937_64::discard(uint64_t n) {
  while (n > uint64_t(kWords - next_)) {
    n -= uint64_t(kWords - next_);
    regenerate();
  }
  next_ += int(n);
}

std::ostream& operator<<(std::ostream& out, const Mt19937_64& e) {
  const auto flags = out.flags();
  const auto fill = out.fill();
  out.flags(std::ios_base::dec | std::ios_base::fixed | std::ios_base::left);
  out.fill(' ');
  for (uint64_t w : e.words_) out << w << ' ';
  out << e.next_;
  out.flags(flags);
  out.fill(fill);
  return out;
}

std::istream& operator>>(std::istream& in, Mt19937_64& e) {
  const auto flags = in.flags();
  in.flags(std::ios_base::dec | std::ios_base::skipws);
  Mt19937_64 read;
  for (uint64_t& w : read.words_) in >> w;
  in >> read.next_;
  if (in && (read.next_ < 0 || read.next_ > Mt19937_64::kWords))
    in.setstate(std::ios_base::failbit);
  if (in) e = read;
  in.flags(flags);
  return in;
}

}  // namespace nabla::detail
