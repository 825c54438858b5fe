// A Sequential out as an ONNX graph (include: nabla/onnx.h). One layer becomes one node, or a
// few where ONNX has no single operator (docs/onnx.md lists them); tensors are named after the
// layer ("3.weight", "3.out") so a graph viewer shows the nabla layer each node came from.
#include <fstream>
#include <string>
#include <vector>

#include "nabla/error.h"
#include "nabla/nn/layer.h"
#include "nabla/nn/module.h"
#include "nabla/onnx.h"
#include "onnx/proto.h"

namespace nabla::onnx {

namespace {

using nn::LayerConfig;

class GraphWriter {
 public:
  explicit GraphWriter(::onnx::GraphProto& graph) : graph_(graph) {}

  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::string& output) {
    ::onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(op);
    n.set_name(output);
    for (const std::string& in : inputs) n.add_input(in);
    n.add_output(output);
    return n;
  }
  std::string floats(const std::string& name, const std::vector<float>& values,
                     const std::vector<int64_t>& dims) {
    proto::set_float_tensor(*graph_.add_initializer(), name, values, dims);
    return name;
  }
  std::string int64s(const std::string& name, const std::vector<int64_t>& values) {
    proto::set_int64_tensor(*graph_.add_initializer(), name, values,
                            {static_cast<int64_t>(values.size())});
    return name;
  }

 private:
  ::onnx::GraphProto& graph_;
};

void set_ints(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& values) {
  ::onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
}
void set_int(::onnx::NodeProto& n, const std::string& name, int64_t value) {
  ::onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INT);
  a.set_i(value);
}
void set_float(::onnx::NodeProto& n, const std::string& name, double value) {
  ::onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::FLOAT);
  a.set_f(static_cast<float>(value));
}

// The layer's parameter or buffer `name`; an undefined tensor when it has none.
Tensor find_tensor(const nn::Module& layer, const std::string& name) {
  for (const auto& list : {layer.named_parameters(false), layer.named_buffers(false)})
    for (const auto& [n, t] : list)
      if (n == name) return t;
  return {};
}

// The layer's tensor `name` as an initializer "<prefix>.<name>"; "" when it has none.
std::string weights(GraphWriter& g, const nn::Module& layer, const std::string& prefix,
                    const std::string& name) {
  const Tensor t = find_tensor(layer, name);
  if (!t.defined()) return "";
  const std::vector<int64_t> dims(t.shape().begin(), t.shape().end());
  return g.floats(prefix + "." + name, proto::to_floats(t), dims);
}

void kernel_attributes(::onnx::NodeProto& n, const LayerConfig& c, Size2 stride) {
  const Size2 k = c.size2("kernel_size"), p = c.size2("padding");
  set_ints(n, "kernel_shape", {k.h, k.w});
  set_ints(n, "strides", {stride.h, stride.w});
  set_ints(n, "pads", {p.h, p.w, p.h, p.w});
}

// Adds the nodes of one layer reading `in` (shape `shape`, batch dim first, as -1) and returns
// the name of its output.
std::string add_layer(GraphWriter& g, const nn::Module& layer, const std::string& prefix,
                      const std::string& in, const std::vector<int64_t>& shape,
                      const std::vector<int64_t>& out_shape) {
  const std::string type = layer.layer_type()->name;
  const LayerConfig c = layer.config();
  const std::string out = prefix + ".out";
  if (type == "conv2d") {
    std::vector<std::string> inputs{in, weights(g, layer, prefix, "weight")};
    if (const std::string b = weights(g, layer, prefix, "bias"); !b.empty()) inputs.push_back(b);
    ::onnx::NodeProto& n = g.node("Conv", inputs, out);
    kernel_attributes(n, c, c.size2("stride"));
    const Size2 d = c.size2("dilation");
    set_ints(n, "dilations", {d.h, d.w});
    set_int(n, "group", c.integer("groups"));
  } else if (type == "linear") {  // on (N, F): describe() refused any other input
    std::vector<std::string> inputs{in, weights(g, layer, prefix, "weight")};
    if (const std::string b = weights(g, layer, prefix, "bias"); !b.empty()) inputs.push_back(b);
    set_int(g.node("Gemm", inputs, out), "transB", 1);
  } else if (type == "maxpool2d" || type == "avgpool2d") {
    const Size2 k = c.size2("kernel_size"), s = c.size2("stride");
    ::onnx::NodeProto& n = g.node(type == "maxpool2d" ? "MaxPool" : "AveragePool", {in}, out);
    kernel_attributes(n, c, {s.h ? s.h : k.h, s.w ? s.w : k.w});
    // nabla's average pooling divides by the whole window, padding included (PyTorch's default).
    if (type == "avgpool2d") set_int(n, "count_include_pad", 1);
  } else if (type == "globalavgpool2d") {
    if (c.boolean("keepdim")) return g.node("GlobalAveragePool", {in}, out), out;
    g.node("GlobalAveragePool", {in}, prefix + ".pooled");
    set_int(g.node("Flatten", {prefix + ".pooled"}, out), "axis", 1);
  } else if (type == "batchnorm1d" || type == "batchnorm2d") {
    NABLA_CHECK(c.boolean("track_running_stats"), "ONNX export: layer ", prefix, " (", type,
                "): has no running statistics (track_running_stats false); ONNX's "
                "BatchNormalization needs them");
    const int64_t C = c.integer("num_features");
    std::string scale = weights(g, layer, prefix, "weight"),
                bias = weights(g, layer, prefix, "bias");
    if (scale.empty()) scale = g.floats(prefix + ".weight", std::vector<float>(C, 1.0f), {C});
    if (bias.empty()) bias = g.floats(prefix + ".bias", std::vector<float>(C, 0.0f), {C});
    ::onnx::NodeProto& n = g.node("BatchNormalization",
                                  {in, scale, bias, weights(g, layer, prefix, "running_mean"),
                                   weights(g, layer, prefix, "running_var")},
                                  out);
    set_float(n, "epsilon", c.number("eps"));
  } else if (type == "dropout") {
    g.node("Dropout", {in}, out);  // no ratio, no training_mode: the identity ONNX Runtime skips
  } else if (type == "flatten") {
    if (out_shape.size() == 2 && c.integer("start_dim") == 1) {
      set_int(g.node("Flatten", {in}, out), "axis", 1);
    } else {
      std::vector<int64_t> target{0};  // 0: the batch dim as it comes (allowzero = 0)
      target.insert(target.end(), out_shape.begin() + 1, out_shape.end());
      g.node("Reshape", {in, g.int64s(prefix + ".shape", target)}, out);
    }
  } else if (type == "relu" || type == "sigmoid" || type == "tanh") {
    g.node(type == "relu" ? "Relu" : type == "sigmoid" ? "Sigmoid" : "Tanh", {in}, out);
  } else if (type == "leakyrelu") {
    set_float(g.node("LeakyRelu", {in}, out), "alpha", c.number("negative_slope"));
  } else if (type == "elu") {
    set_float(g.node("Elu", {in}, out), "alpha", c.number("alpha"));
  } else if (type == "softmax" || type == "logsoftmax") {
    set_int(g.node(type == "softmax" ? "Softmax" : "LogSoftmax", {in}, out), "axis",
            c.integer("dim"));
  } else if (type == "maxout") {
    // (N, ..., F, ...) -> (N, ..., F / pieces, pieces, ...) -> max over the pieces.
    const int64_t rank = static_cast<int64_t>(shape.size());
    const int64_t dim = c.integer("dim") < 0 ? c.integer("dim") + rank : c.integer("dim");
    const int64_t pieces = c.integer("pieces");
    std::vector<int64_t> split{0};
    for (int64_t i = 1; i < rank; ++i) {
      if (i == dim) {
        split.push_back(shape[i] / pieces);
        split.push_back(pieces);
      } else {
        split.push_back(shape[i]);
      }
    }
    g.node("Reshape", {in, g.int64s(prefix + ".shape", split)}, prefix + ".pieces");
    ::onnx::NodeProto& n = g.node("ReduceMax", {prefix + ".pieces"}, out);
    set_ints(n, "axes", {dim + 1});
    set_int(n, "keepdims", 0);
  } else if (type == "softplus") {
    // y = x where beta·x > threshold, else log(1 + exp(beta·x)) / beta, as nabla and PyTorch.
    const float beta = static_cast<float>(c.number("beta"));
    const std::string b = g.floats(prefix + ".beta", {beta}, {});
    g.node("Mul", {in, b}, prefix + ".bx");
    g.node("Softplus", {prefix + ".bx"}, prefix + ".sp");
    g.node("Div", {prefix + ".sp", b}, prefix + ".soft");
    const std::string t =
        g.floats(prefix + ".threshold", {static_cast<float>(c.number("threshold"))}, {});
    g.node("Greater", {prefix + ".bx", t}, prefix + ".linear");
    g.node("Where", {prefix + ".linear", in, prefix + ".soft"}, out);
  } else {
    detail::throw_error("ONNX export: layer ", prefix, " (", type,
                        ") has no ONNX form; docs/onnx.md lists the layers that have one");
  }
  return out;
}

void set_value_info(::onnx::ValueInfoProto& v, const std::string& name,
                    const std::vector<int64_t>& shape) {
  v.set_name(name);
  ::onnx::TypeProto_Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(::onnx::TensorProto::FLOAT);
  for (size_t i = 0; i < shape.size(); ++i) {
    ::onnx::TensorShapeProto_Dimension& d = *t.mutable_shape()->add_dim();
    if (i == 0)
      d.set_dim_param("N");
    else
      d.set_dim_value(shape[i]);
  }
}

::onnx::ModelProto build(const nn::Sequential& model, const ExportOptions& o) {
  NABLA_CHECK(!o.sample_shape.empty(), "ONNX export: the sample shape is empty");
  const size_t C = static_cast<size_t>(o.sample_shape[0]);
  NABLA_CHECK(o.mean.size() == o.std.size() && (o.mean.empty() || o.mean.size() == C),
              "ONNX export: normalisation has ", o.mean.size(), " means and ", o.std.size(),
              " stds for ", C, " channels");
  ::onnx::ModelProto m;
  m.set_ir_version(8);  // opset 13..18; ONNX Runtime 1.14+ and onnx 1.12's checker read it
  m.set_producer_name(o.producer);
  if (!o.class_names.empty()) {
    std::string names;
    for (const std::string& n : o.class_names) {
      if (!names.empty()) names += '\n';
      names += n;
    }
    ::onnx::StringStringEntryProto& entry = *m.add_metadata_props();
    entry.set_key("nabla.class_names");
    entry.set_value(names);
  }
  ::onnx::OperatorSetIdProto& opset = *m.add_opset_import();
  opset.set_domain("");
  opset.set_version(kExportOpset);
  ::onnx::GraphProto& graph = *m.mutable_graph();
  graph.set_name("nabla");
  GraphWriter g(graph);

  std::vector<int64_t> shape{1};
  shape.insert(shape.end(), o.sample_shape.begin(), o.sample_shape.end());
  set_value_info(*graph.add_input(), "input", shape);
  std::string x = "input";
  if (!o.mean.empty()) {
    // Per channel: (C, 1, 1) for images, (C) for feature vectors, broadcast over the batch.
    std::vector<int64_t> dims(o.sample_shape.size(), 1);
    dims[0] = static_cast<int64_t>(C);
    std::vector<float> mean(C), std(C);
    for (size_t c = 0; c < C; ++c) {
      mean[c] = o.mean[c] * o.input_scale;
      std[c] = o.std[c] * o.input_scale;
    }
    g.node("Sub", {x, g.floats("input.mean", mean, dims)}, "input.centred");
    g.node("Div", {"input.centred", g.floats("input.std", std, dims)}, "input.normalized");
    x = "input.normalized";
  }
  bool ends_in_softmax = false;
  for (size_t i = 0; i < model.size(); ++i) {
    const nn::Module& layer = *model[i];
    NABLA_CHECK(layer.layer_type() != nullptr, "ONNX export: layer ", i, " (", layer.name(),
                ") has no ONNX form: it is not a layer type a model description holds");
    std::vector<int64_t> out_shape;
    try {
      out_shape = layer.describe(shape).output;
    } catch (const Error& e) {
      detail::throw_error("ONNX export: layer ", i, " (", layer.layer_type()->name,
                          "): ", e.what());
    }
    x = add_layer(g, layer, std::to_string(i), x, shape, out_shape);
    shape = out_shape;
    ends_in_softmax = layer.layer_type()->name == "softmax";
  }
  const std::string output = o.probabilities ? "probabilities" : "logits";
  if (o.probabilities && !ends_in_softmax)
    set_int(g.node("Softmax", {x}, output), "axis", -1);
  else
    g.node("Identity", {x}, output);
  set_value_info(*graph.add_output(), output, shape);
  return m;
}

}  // namespace

std::string export_model_bytes(const nn::Sequential& model, const ExportOptions& options) {
  std::string bytes;
  NABLA_CHECK(build(model, options).SerializeToString(&bytes),
              "ONNX export: the model could not be serialised (over 2 GiB?)");
  return bytes;
}

void export_model(const nn::Sequential& model, const std::string& path,
                  const ExportOptions& options) {
  const std::string bytes = export_model_bytes(model, options);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  NABLA_CHECK(file.good(), "ONNX export: cannot open ", path, " for writing");
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  NABLA_CHECK(file.good(), "ONNX export: writing ", path, " failed");
}

}  // namespace nabla::onnx
