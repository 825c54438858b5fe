// Compiled against an installed nabla: the public headers, the static library and its link
// dependencies (cairo, zlib) must all come through nabla::nabla. Exits non-zero when the
// gradient is wrong, so a broken install cannot pass by merely linking.
#include <nabla/nabla.h>

#include <cmath>
#include <cstdio>

int main() {
  using nabla::Tensor;
  // 16×32·32×16 is large enough that cpu::gemm takes its packed kernel rather than its small loop.
  nabla::Generator gen(7);
  Tensor a = Tensor::randn({16, 32}, gen).requires_grad_();
  Tensor b = Tensor::ones({32, 16});
  Tensor loss = nabla::matmul(a, b).sum();
  loss.backward();
  // d(sum(a·b))/da[i][k] = sum_j b[k][j] = 16 for b of ones.
  for (double g : a.grad().to_vector()) {
    if (std::abs(g - 16.0) > 1e-5) {
      std::fprintf(stderr, "consumer: wrong gradient %g (expected 16)\n", g);
      return 1;
    }
  }
  std::printf("consumer: installed nabla works, loss = %.4f\n", loss.item());
  return 0;
}
