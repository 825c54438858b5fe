// Bad-input cases at run time: op shape errors, the memory limit, and the command line. The
// table and the test that runs it: bad_input.h, bad_input_test.cpp.
#include "bad_input.h"
#include "nabla/memory.h"
#include "nabla/nn/sequential.h"

namespace nabla::bad_input {

void add_runtime_cases(Cases& c) {
  // ---------------------------------------------------------------- op shape errors
  c.add("ops", "matmul shapes", "[2, 3] x [4, 5]",
        [](D) {
          matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}));
        },
        {"matmul", "[2, 3]", "[4, 5]"});
  c.add("ops", "conv2d channels", "input [1, 3, 8, 8], weight [4, 1, 3, 3]",
        [](D) {
          F::conv2d(Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({4, 1, 3, 3}));
        },
        {"conv2d", "[1, 3, 8, 8]", "[4, 1, 3, 3]"});
  c.add("ops", "cross_entropy label", "logits [2, 3], labels {0, 3}",
        [](D) {
          cross_entropy(Tensor::zeros({2, 3}), {0, 3});
        },
        {"cross_entropy", "label 3", "position 1", "[2, 3]"});
  c.add("ops", "broadcast", "[2, 3] + [4]",
        [](D) {
          Tensor::zeros({2, 3}) + Tensor::zeros({4});
        },
        {"[2, 3]", "[4]"});
  c.add("ops", "layer input shape", "Linear(4, 3) on a [2, 5] batch",
        [](D) {
          model_from_json(kMlp)->forward(Tensor::zeros({2, 5}));
        },
        {"[2, 5]", "4"});

  // ---------------------------------------------------------------- memory limit
  c.add("memory limit", "model too big",
        "Linear(64, 64), ReLU, Linear(64, 4096 x 4096) under 32 MiB",
        [](D) {
          set_memory_limit(memory_in_use() + (32 << 20));
          struct Unset {
            ~Unset() { set_memory_limit(0); }
          } unset;
          model_from_json(R"({"input": [64], "layers": [{"type": "linear", "out_features": 64},
                            {"type": "relu"}, {"type": "linear", "out_features": 16777216}]})");
        },
        {"memory limit", "float32 [16777216, 64]", "4.00 GiB", "layers[2] (linear)", "in use"});
  c.add("memory limit", "batch too big", "LeNet-5's first layer on a batch of 4096, 16 MiB limit",
        [](D) {
          auto lenet = make_model("lenet5");
          Tensor batch = Tensor::zeros({4096, 1, 28, 28});
          set_memory_limit(memory_in_use() + (16 << 20));
          struct Unset {
            ~Unset() { set_memory_limit(0); }
          } unset;
          lenet->forward(batch);
        },
        {"memory limit", "float32 [4096, 6, 28, 28]", "layer '0' (Conv2d)", "in use"});
  c.add("memory limit", "bad NABLA_MEMORY_LIMIT", "parse_memory_size(\"12 parsecs\")",
        [](D) { parse_memory_size("12 parsecs"); }, {"'12 parsecs'", "unknown unit", "512M"});

  // ---------------------------------------------------------------- command line
  c.add_cli("mistyped choice", "nabla train --optimizer adma",
            [](D dir) { return cli(dir, "train --optimizer adma"); },
            {"--optimizer", "adma", "did you mean 'adam'", "sgd", "[exit 2]"});
  c.add_cli("mistyped model", "nabla train --model lenet",
            [](D dir) { return cli(dir, "train --model lenet"); },
            {"--model", "did you mean 'lenet5'", "mlp", "[exit 2]"});
  c.add_cli("unknown command", "nabla trian", [](D dir) { return cli(dir, "trian"); },
            {"unknown command 'trian'", "train", "[exit 2]"});
  c.add_cli("unknown option", "nabla train --epoch 3",
            [](D dir) { return cli(dir, "train --epoch 3"); },
            {"unknown option '--epoch', did you mean '--epochs'?", "[exit 2]"});
  c.add_cli("bad number", "nabla train --lr fast",
            [](D dir) { return cli(dir, "train --lr fast"); }, {"--lr", "fast", "[exit 2]"});
  c.add_cli("missing data", "nabla train --data-dir <empty dir>",
            [](D dir) {
              return cli(dir,
                         "train --epochs 1 --data-dir " + dir.str() + " --out " + dir.file("run"));
            },
            {"nabla: error:", "train-images-idx3-ubyte", "[exit 1]"});
  c.add_cli("bad --memory-limit", "nabla --memory-limit lots train",
            [](D dir) { return cli(dir, "--memory-limit lots train"); },
            {"--memory-limit", "'lots'", "512M", "[exit 2]"});
  c.add_cli("bad NABLA_MEMORY_LIMIT", "NABLA_MEMORY_LIMIT=2Q nabla demo xor",
            [](D dir) { return cli(dir, "demo xor", "NABLA_MEMORY_LIMIT=2Q "); },
            {"NABLA_MEMORY_LIMIT", "'2Q'", "[exit 1]"});
  c.add_cli("memory limit too small for the model", "nabla --memory-limit 1M train --model mlp",
            [](D dir) { return train_with_limit(dir, "1M"); },
            {"memory limit", "float32 [256, 784]", "mlp: layers[1] (linear)", "1.00 MiB",
             "--memory-limit", "[exit 1]"});
  c.add_cli("memory limit too small for training", "nabla --memory-limit 3M train --model mlp",
            [](D dir) { return train_with_limit(dir, "3M"); },
            {"memory limit: training mlp with adam", "3.08 MiB more", "2 optimizer state",
             "1.03 MiB of trainable parameters", "3.00 MiB", "[exit 1]"});
}

}  // namespace nabla::bad_input
