// Compiled against an installed nabla through nabla::nabla: the public headers of every
// component, their static libraries and their link dependencies (zlib, cairo, MPI when built
// with it). It calls into each component, so that the linker must pull in code that needs each
// dependency, and exits non-zero when a result is wrong, so a broken install cannot pass by
// merely linking.
#include <nabla/data/dataloader.h>
#include <nabla/data/idx.h>
#include <nabla/distributed.h>
#include <nabla/error.h>
#include <nabla/io/plot.h>
#include <nabla/nabla.h>
#include <nabla/nn/linear.h>
#include <nabla/optim/sgd.h>
#include <nabla/train/trainer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

int fail(const char* what) {
  std::fprintf(stderr, "consumer: %s\n", what);
  return 1;
}

int main() {
  using namespace nabla;
  // core: 16×32·32×16 is large enough that cpu::gemm takes its packed kernel rather than its
  // small loop. d(sum(a·b))/da[i][k] = sum_j b[k][j] = 16 for b of ones.
  Generator gen(7);
  Tensor a = Tensor::randn({16, 32}, gen).requires_grad_();
  Tensor b = Tensor::ones({32, 16});
  Tensor loss = matmul(a, b).sum();
  loss.backward();
  for (double g : a.grad().to_vector())
    if (std::abs(g - 16.0) > 1e-5) return fail("wrong gradient (expected 16)");

  // data (zlib): reading a missing .gz file goes through the gzip reader and throws.
  bool threw = false;
  try {
    data::read_idx("no-such-file-idx1-ubyte.gz");
  } catch (const Error&) {
    threw = true;
  }
  if (!threw) return fail("read_idx of a missing file did not throw");

  // train: one epoch over four samples of two classes.
  data::Dataset set = data::Dataset::from_float("tiny", {2}, {0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, 1, 0},
                                                {"even", "odd"});
  data::DataLoader loader(set, data::DataLoaderOptions(2));
  nn::Linear model(nn::LinearOptions(2, 2));
  optim::SGD opt(model.parameters(), optim::SGDOptions(0.1));
  train::Trainer trainer(model, opt, loader);
  if (trainer.fit().size() != 1) return fail("the Trainer did not run one epoch");

  // plot (cairo): a line plot written as PNG.
  const std::string png = (std::filesystem::temp_directory_path() / "nabla_consumer.png").string();
  io::LinePlot plot;
  plot.series.push_back({"loss", {1, 2, 3}, {3, 2, 1}});
  io::write_line_plot(png, plot);
  const bool drawn = std::filesystem::file_size(png) > 0;
  std::filesystem::remove(png);
  if (!drawn) return fail("write_line_plot wrote nothing");

  // distributed: not started by mpirun, so a world of one process.
  if (distributed::Communicator::world().size() != 1) return fail("a world of more than one rank");

  std::printf("consumer: installed nabla works, loss = %.4f\n", loss.item());
  return 0;
}
