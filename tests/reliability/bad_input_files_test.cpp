// Bad-input cases of the file readers: safetensors, checkpoints, JSON model descriptions and
// images. The table and the test that runs it: bad_input.h, bad_input_test.cpp.
#include "bad_input.h"
#include "nabla/io/safetensors.h"
#include "nabla/nn/sequential.h"
#include "nabla/optim/sgd.h"

namespace nabla::bad_input {

void add_file_cases(Cases& c) {
  // ---------------------------------------------------------------- safetensors
  auto st = [](D dir, const Bytes& bytes) {
    io::load_safetensors(write(dir, "w.safetensors", bytes));
  };
  c.add("safetensors", "missing file", "a path that does not exist",
        [](D dir) { io::load_safetensors(dir.file("none.safetensors")); }, {"none.safetensors"});
  c.add("safetensors", "shorter than 8 bytes", "5 bytes",
        [=](D dir) {
          st(dir, {1, 2, 3, 4, 5});
        },
        {"w.safetensors", "5 bytes", "8"});
  c.add("safetensors", "header length beyond file", "length field 1000000, file of 40 bytes",
        [=](D dir) { st(dir, safetensors("{}", 30, 1000000)); },
        {"w.safetensors", "byte 0", "header length 1000000", "40 bytes"});
  c.add("safetensors", "bad JSON", "header '{\"a\": '",
        [=](D dir) { st(dir, safetensors("{\"a\": ", 0)); }, {"w.safetensors", "JSON"});
  c.add("safetensors", "bad UTF-8 in JSON", "byte 0xFF inside a tensor name",
        [=](D dir) {
          st(dir, safetensors("{\"w\xff\": {\"dtype\": \"F32\", \"shape\": [1], "
                              "\"data_offsets\": [0, 4]}}",
                              4));
        },
        {"w.safetensors", "byte 11", "UTF-8", "'\"w\\xff'"});
  c.add("safetensors", "wrong dtype", "dtype U16",
        [=](D dir) {
          st(dir,
             safetensors(R"({"w": {"dtype": "U16", "shape": [4], "data_offsets": [0, 8]}})", 8));
        },
        {"w.safetensors", "'w'", "U16", "F32"});
  c.add("safetensors", "shape and offsets disagree", "F32 shape [2, 2] with offsets [0, 8]",
        [=](D dir) {
          st(dir,
             safetensors(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}})", 8));
        },
        {"w.safetensors", "'w'", "[2, 2]", "16", "8"});
  c.add("safetensors", "overlapping offsets", "two F32 [2] tensors at [0, 8] and [4, 12]",
        [=](D dir) {
          st(dir, safetensors(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                              12));
        },
        {"w.safetensors", "'b'", "overlap", "'a'"});
  c.add("safetensors", "duplicate names", "the name 'w' twice",
        [=](D dir) {
          st(dir, safetensors(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                              8));
        },
        {"w.safetensors", "'w' twice", "byte"});
  c.add("safetensors", "offsets beyond data", "offsets [0, 4000] with 8 data bytes",
        [=](D dir) {
          st(dir, safetensors(
                      R"({"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}})", 8));
        },
        {"w.safetensors", "'w'", "4000", "8"});
  c.add("safetensors", "negative extent", "shape [-1]",
        [=](D dir) {
          st(dir,
             safetensors(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4));
        },
        {"w.safetensors", "'w'", "shape"});
  c.add("safetensors", "header not an object", "header '[1, 2]'",
        [=](D dir) { st(dir, safetensors("[1, 2]", 0)); }, {"w.safetensors", "object"});

  // ---------------------------------------------------------------- checkpoints
  c.add("checkpoint", "missing directory", "load_checkpoint of a directory that does not exist",
        [](D dir) {
          auto model = model_from_json(kMlp);
          io::load_checkpoint(dir.file("nothing"), *model, nullptr);
        },
        {"nothing", "trainer_state.json"});
  c.add("checkpoint", "missing tensor", "weights of a 1-layer model loaded into a 2-layer one",
        [](D dir) {
          io::save_weights(dir.file("w.safetensors"), *model_from_json(kMlp));
          auto model = model_from_json(kTwoLayers);
          io::load_weights(dir.file("w.safetensors"), *model);
        },
        {"w.safetensors", "missing", "2.weight", "2.bias"});
  c.add("checkpoint", "wrong shape for the model", "weights of Linear(4, 3) into Linear(4, 5)",
        [](D dir) {
          io::save_weights(dir.file("w.safetensors"), *model_from_json(kMlp));
          auto model = model_from_json(kWideMlp);
          io::load_weights(dir.file("w.safetensors"), *model);
        },
        {"w.safetensors", "0.weight", "[3, 4]", "[5, 4]"});
  c.add("checkpoint", "wrong optimizer", "an Adam checkpoint resumed with SGD",
        [](D dir) {
          const std::string path = checkpoint(dir);
          auto model = model_from_json(kMlp);
          optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1));
          io::load_checkpoint(path, *model, &sgd);
        },
        {"optimizer.safetensors", "Adam", "SGD"});
  c.add("checkpoint", "corrupt trainer_state.json", "trainer_state.json replaced by '{\"epoch\": '",
        [](D dir) {
          const std::string path = checkpoint(dir);
          testing::write_text(path + "/trainer_state.json", "{\"epoch\": ");
          auto model = model_from_json(kMlp);
          io::load_checkpoint(path, *model, nullptr);
        },
        {"trainer_state.json", "JSON"});
  c.add("checkpoint", "truncated weights", "model.safetensors cut to half its size",
        [](D dir) {
          const std::string path = checkpoint(dir);
          const std::string file = path + "/model.safetensors";
          std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
          auto model = model_from_json(kMlp);
          io::load_checkpoint(path, *model, nullptr);
        },
        {"model.safetensors", "byte"});

  // ---------------------------------------------------------------- JSON model descriptions
  auto model = [](const std::string& text) { model_from_json(text, 0, "model.json"); };
  c.add("model JSON", "unknown layer", "type 'lineer'",
        [=](D) { model(R"({"input": [4], "layers": [{"type": "lineer", "out_features": 3}]})"); },
        {"model.json", "layers[0]", "unknown layer type 'lineer'", "did you mean 'linear'"});
  c.add("model JSON", "unknown field", "'kernal_size' in a conv2d",
        [=](D) {
          model(R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2,
                  "kernal_size": 3}]})");
        },
        {"model.json", "layers[0] (conv2d)", "kernal_size", "kernel_size"});
  c.add(
      "model JSON", "bad field type", "out_features \"ten\"",
      [=](D) { model(R"({"input": [4], "layers": [{"type": "linear", "out_features": "ten"}]})"); },
      {"model.json", "layers[0] (linear)", "out_features", "\"ten\""});
  c.add("model JSON", "bad UTF-8", "byte 0xFF in a string",
        [=](D) { model("{\"input\": [4], \"name\": \"a\xff\", \"layers\": []}"); },
        {"model.json", "UTF-8", "byte offset 25", "\\xff"});
  c.add("model JSON", "invalid JSON", "a missing closing brace",
        [=](D) { model(R"({"input": [4], "layers": [{"type": "relu"})"); },
        {"model.json", "invalid JSON", "byte"});
  c.add("model JSON", "negative size", "out_features -3",
        [=](D) { model(R"({"input": [4], "layers": [{"type": "linear", "out_features": -3}]})"); },
        {"model.json", "layers[0] (linear)", "out_features", "-3"});
  c.add("model JSON", "shape mismatch", "conv2d with in_channels 3 on a [1, 8, 8] input",
        [=](D) {
          model(R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "in_channels": 3,
                  "out_channels": 2, "kernel_size": 3}]})");
        },
        {"model.json", "layers[0] (conv2d)", "in_channels", "3", "[1, 8, 8]"});
  c.add("model JSON", "kernel larger than input", "conv2d kernel 9 on a [1, 8, 8] input",
        [=](D) {
          model(R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2,
                  "kernel_size": 9}]})");
        },
        {"model.json", "layers[0] (conv2d)", "9", "8"});
  c.add("model JSON", "missing input", "no 'input' field",
        [=](D) { model(R"({"layers": [{"type": "relu"}]})"); }, {"model.json", "'input'"});
  c.add("model JSON", "deep nesting", "100000 nested '['",
        [=](D) { model(std::string(100000, '[')); }, {"model.json", "nested", "byte"});

  // ---------------------------------------------------------------- images (nabla predict)
  c.add("image", "missing file", "a path that does not exist",
        [](D dir) { io::read_image(dir.file("none.png")); }, {"none.png"});
  c.add("image", "truncated PNG", "a PNG cut after 40 bytes",
        [](D dir) {
          const std::string path = png(dir, 28, 28);
          std::filesystem::resize_file(path, 40);
          io::read_image(path);
        },
        {"image.png", "PNG"});
  c.add("image", "not an image", "a text file named .png",
        [](D dir) { io::read_image(write(dir, "notes.png", std::string("hello, world\n"))); },
        {"notes.png"});
  c.add("image", "PGM truncated", "P5 header 100 x 100, 10 pixel bytes",
        [](D dir) {
          std::string text = "P5\n100 100\n255\n" + std::string(10, 'x');
          io::read_image(write(dir, "x.pgm", text));
        },
        {"x.pgm", "10000", "10"});
  c.add("image", "PNG too large", "a PNG whose IHDR claims 30000 x 30000",
        [](D dir) {
          const std::string path = png(dir, 2, 2);
          std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
          f.seekp(16);  // IHDR width and height, big-endian
          const char size[8] = {0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30};
          f.write(size, 8);
          f.close();
          io::read_image(path);
        },
        {"image.png", "30000"});
}

}  // namespace nabla::bad_input
