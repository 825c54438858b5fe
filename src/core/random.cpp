// Normal numbers for Generator (Box-Muller; fixed across standard libraries) and its state as text.
#include "nabla/random.h"

#include <bit>
#include <cmath>
#include <numbers>
#include <sstream>

#include "nabla/error.h"

namespace nabla {

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;  // log(0) guard
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

std::string Generator::state() const {
  std::ostringstream out;
  out << engine_ << ' ' << (has_spare_ ? 1 : 0) << ' ' << std::bit_cast<uint64_t>(spare_);
  return out.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream in(state);
  detail::Mt19937_64 engine;
  int has_spare = -1;
  uint64_t spare_bits = 0;
  in >> engine >> has_spare >> spare_bits;
  // Anything after the three fields means the text is not what state() wrote.
  NABLA_CHECK(!in.fail() && (has_spare == 0 || has_spare == 1) && (in >> std::ws).eof(),
              "Generator::set_state: malformed state (expected ", detail::Mt19937_64::kWords,
              " engine words, a 0/1 flag and the cached normal's bits, as state() writes)");
  engine_ = engine;
  has_spare_ = has_spare == 1;
  spare_ = std::bit_cast<double>(spare_bits);
}

}  // namespace nabla
