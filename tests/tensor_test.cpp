#include <gtest/gtest.h>
#include "nabla/nabla.h"
using namespace nabla;
TEST(Tensor, Smoke) {
  Tensor a = Tensor::arange(0, 6).reshape({2, 3});
  EXPECT_EQ(a.sum().item(), 15);
}
