// An ONNX graph in as a Sequential (include: nabla/onnx.h). The nodes must form one chain from
// the graph input to its output; each becomes a layer of the model's JSON description
// (nabla/models.h), whose weights are then copied in. Constant nodes are read as initializers,
// Identity is skipped and MatMul + Add of a constant fold into one linear layer.
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/error.h"
#include "nabla/models.h"
#include "nabla/nn/layer.h"
#include "nabla/onnx.h"
#include "onnx/proto.h"

namespace nabla::onnx {

namespace {

struct Weight {
  std::vector<float> values;
  std::vector<int64_t> dims;
};

std::string json_number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}
std::string json_pair(int64_t h, int64_t w) {
  std::ostringstream out;  // not "[" + std::to_string(h): GCC 12 warns -Wrestrict on it
  out << '[' << h << ", " << w << ']';
  return out.str();
}

class Importer {
 public:
  Importer(const ::onnx::ModelProto& model, std::string source)
      : graph_(model.graph()), source_(std::move(source)) {
    for (const ::onnx::OperatorSetIdProto& o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
    for (const ::onnx::TensorProto& t : graph_.initializer()) constants_[t.name()] = &t;
  }

  ImportedModel run();

 private:
  // Error prefix for node `n`: "model.onnx: node 3 'Conv_0' (Conv)".
  std::string where(int i, const ::onnx::NodeProto& n) const {
    return source_ + ": node " + std::to_string(i) + " '" + n.name() + "' (" + n.op_type() + ")";
  }
  const ::onnx::AttributeProto* attribute(const ::onnx::NodeProto& n, const std::string& name) {
    for (const ::onnx::AttributeProto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  int64_t int_attr(const ::onnx::NodeProto& n, const std::string& name, int64_t fallback) {
    const ::onnx::AttributeProto* a = attribute(n, name);
    return a ? a->i() : fallback;
  }
  double float_attr(const ::onnx::NodeProto& n, const std::string& name, double fallback) {
    const ::onnx::AttributeProto* a = attribute(n, name);
    return a ? a->f() : fallback;
  }
  std::vector<int64_t> ints_attr(const ::onnx::NodeProto& n, const std::string& name,
                                 std::vector<int64_t> fallback) {
    const ::onnx::AttributeProto* a = attribute(n, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
  }
  // The constant input `k` of node `i` (an initializer or a Constant node's value).
  const ::onnx::TensorProto& constant(int i, const ::onnx::NodeProto& n, int k) {
    NABLA_CHECK(n.input_size() > k && !n.input(k).empty(), where(i, n), ": input ", k,
                " is missing");
    const auto it = constants_.find(n.input(k));
    NABLA_CHECK(it != constants_.end(), where(i, n), ": input ", k, " '", n.input(k),
                "' must be a constant (an initializer): only weights held in the file import");
    return *it->second;
  }
  Weight floats(int i, const ::onnx::NodeProto& n, int k) {
    const ::onnx::TensorProto& t = constant(i, n, k);
    return {proto::float_values(t, where(i, n) + " input '" + t.name() + "'"),
            {t.dims().begin(), t.dims().end()}};
  }
  bool has_input(const ::onnx::NodeProto& n, int k) const {
    return n.input_size() > k && !n.input(k).empty();
  }
  // The current per-sample shape: the description so far, run through the shape rules.
  std::vector<int64_t> shape() const {
    return layers_.empty() ? sample_shape_ : model_output_shape(description(), source_);
  }
  std::string description() const {
    std::string s = "{\"input\": [";
    for (size_t i = 0; i < sample_shape_.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(sample_shape_[i]);
    }
    s += "],\n \"layers\": [";
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (i) s += ",\n  ";
      s += layers_[i];
    }
    return s + "]}";
  }
  void add_layer(const std::string& fields) { layers_.push_back("{" + fields + "}"); }
  std::string prefix() const { return std::to_string(layers_.size()); }

  void conv(int i, const ::onnx::NodeProto& n);
  void linear(int i, const ::onnx::NodeProto& n, Weight w, bool transposed, const Weight* bias);
  void pool(int i, const ::onnx::NodeProto& n);
  void batchnorm(int i, const ::onnx::NodeProto& n);
  void reshape(int i, const ::onnx::NodeProto& n);
  void normalization(int i, const ::onnx::NodeProto& n, std::vector<float>& into);
  void read_input();
  bool maxout(int i, const ::onnx::NodeProto& n);
  bool softplus(int i, const ::onnx::NodeProto& n);
  // Node i + k when it exists, has op `op` and reads `from` as input `input`.
  const ::onnx::NodeProto* next(int i, int k, const char* op, const std::string& from,
                                int input = 0) const {
    if (i + k >= graph_.node_size()) return nullptr;
    const ::onnx::NodeProto& n = graph_.node(i + k);
    return n.op_type() == op && n.input_size() > input && n.input(input) == from ? &n : nullptr;
  }

  const ::onnx::GraphProto& graph_;
  std::string source_;
  int64_t opset_ = 0;
  std::map<std::string, const ::onnx::TensorProto*> constants_;
  std::vector<int64_t> sample_shape_;
  std::vector<std::string> layers_;
  std::map<std::string, Weight> weights_;  // "3.weight" -> values
  std::vector<float> mean_, std_;
};

void Importer::read_input() {
  const ::onnx::ValueInfoProto* input = nullptr;
  for (const ::onnx::ValueInfoProto& v : graph_.input())
    if (!constants_.count(v.name())) {
      NABLA_CHECK(input == nullptr, source_, ": the graph has more than one input ('",
                  input ? input->name() : "", "', '", v.name(), "'); a Sequential takes one");
      input = &v;
    }
  NABLA_CHECK(input != nullptr, source_, ": the graph has no input");
  const ::onnx::TypeProto_Tensor& t = input->type().tensor_type();
  NABLA_CHECK(t.elem_type() == ::onnx::TensorProto::FLOAT, source_, ": input '", input->name(),
              "' is not float32");
  NABLA_CHECK(t.shape().dim_size() >= 2, source_, ": input '", input->name(), "' has ",
              t.shape().dim_size(), " dims; expected a batch dim and one sample's dims");
  for (int d = 1; d < t.shape().dim_size(); ++d) {
    const ::onnx::TensorShapeProto_Dimension& dim = t.shape().dim(d);
    NABLA_CHECK(dim.has_dim_value() && dim.dim_value() > 0, source_, ": input '", input->name(),
                "' dim ", d, " is not a fixed positive size");
    sample_shape_.push_back(dim.dim_value());
  }
}

void Importer::conv(int i, const ::onnx::NodeProto& n) {
  Weight w = floats(i, n, 1);
  NABLA_CHECK(w.dims.size() == 4, where(i, n), ": weight of rank ", w.dims.size(),
              "; only 2-d convolutions (rank-4 weights) import");
  const std::string pad = attribute(n, "auto_pad") ? attribute(n, "auto_pad")->s() : "NOTSET";
  NABLA_CHECK(pad == "NOTSET" || pad == "VALID", where(i, n), ": auto_pad ", pad,
              " is not supported; give explicit pads");
  const auto k = ints_attr(n, "kernel_shape", {w.dims[2], w.dims[3]});
  const auto s = ints_attr(n, "strides", {1, 1});
  const auto p = ints_attr(n, "pads", {0, 0, 0, 0});
  const auto d = ints_attr(n, "dilations", {1, 1});
  NABLA_CHECK(k.size() == 2 && s.size() == 2 && p.size() == 4 && d.size() == 2, where(i, n),
              ": kernel_shape, strides, pads or dilations is not 2-d");
  NABLA_CHECK(p[0] == p[2] && p[1] == p[3], where(i, n), ": pads [", p[0], ", ", p[1], ", ", p[2],
              ", ", p[3], "] differ at the two ends; nabla pads both ends alike");
  const bool bias = has_input(n, 2);
  const std::string at = prefix();
  add_layer("\"type\": \"conv2d\", \"out_channels\": " + std::to_string(w.dims[0]) +
            ", \"kernel_size\": " + json_pair(k[0], k[1]) +
            ", \"stride\": " + json_pair(s[0], s[1]) + ", \"padding\": " + json_pair(p[0], p[1]) +
            ", \"dilation\": " + json_pair(d[0], d[1]) +
            ", \"groups\": " + std::to_string(int_attr(n, "group", 1)) +
            ", \"bias\": " + (bias ? "true" : "false") + ", \"floor_mode\": true");
  weights_[at + ".weight"] = std::move(w);
  if (bias) weights_[at + ".bias"] = floats(i, n, 2);
}

// A linear layer from `w`, (out, in), or (in, out) when `transposed`.
void Importer::linear(int i, const ::onnx::NodeProto& n, Weight w, bool transposed,
                      const Weight* bias) {
  NABLA_CHECK(w.dims.size() == 2, where(i, n), ": weight of rank ", w.dims.size(),
              "; a linear layer's is 2-d");
  if (transposed) {
    const int64_t in = w.dims[0], out = w.dims[1];
    std::vector<float> t(w.values.size());
    for (int64_t r = 0; r < in; ++r)
      for (int64_t c = 0; c < out; ++c) t[c * in + r] = w.values[r * out + c];
    w = {std::move(t), {out, in}};
  }
  const int64_t out = w.dims[0];
  if (bias != nullptr)
    NABLA_CHECK(static_cast<int64_t>(bias->values.size()) == out, where(i, n), ": bias of ",
                bias->values.size(), " values for ", out, " outputs");
  const std::string at = prefix();
  add_layer("\"type\": \"linear\", \"out_features\": " + std::to_string(out) +
            ", \"bias\": " + (bias ? "true" : "false"));
  weights_[at + ".weight"] = std::move(w);
  if (bias) weights_[at + ".bias"] = {bias->values, {out}};
}

void Importer::pool(int i, const ::onnx::NodeProto& n) {
  const bool max = n.op_type() == "MaxPool";
  const std::string pad = attribute(n, "auto_pad") ? attribute(n, "auto_pad")->s() : "NOTSET";
  NABLA_CHECK(pad == "NOTSET" || pad == "VALID", where(i, n), ": auto_pad ", pad,
              " is not supported; give explicit pads");
  const auto k = ints_attr(n, "kernel_shape", {});
  const auto s = ints_attr(n, "strides", {1, 1});
  const auto p = ints_attr(n, "pads", {0, 0, 0, 0});
  NABLA_CHECK(k.size() == 2 && s.size() == 2 && p.size() == 4, where(i, n),
              ": kernel_shape, strides or pads is not 2-d");
  NABLA_CHECK(p[0] == p[2] && p[1] == p[3], where(i, n), ": pads differ at the two ends");
  for (int64_t d : ints_attr(n, "dilations", {1, 1}))
    NABLA_CHECK(d == 1, where(i, n), ": dilated pooling is not supported");
  NABLA_CHECK(n.output_size() == 1 || n.output(1).empty(), where(i, n),
              ": the indices output is not supported");
  if (!max)
    NABLA_CHECK(int_attr(n, "count_include_pad", 0) == 1 || (p[0] == 0 && p[1] == 0), where(i, n),
                ": count_include_pad 0 with padding; nabla divides by the whole window");
  // ceil_mode 1: nabla's exact-fit rule, which equals ceil where the windows tile the input.
  const bool floor = int_attr(n, "ceil_mode", 0) == 0;
  add_layer(std::string("\"type\": \"") + (max ? "maxpool2d" : "avgpool2d") +
            "\", \"kernel_size\": " + json_pair(k[0], k[1]) +
            ", \"stride\": " + json_pair(s[0], s[1]) + ", \"padding\": " + json_pair(p[0], p[1]) +
            ", \"floor_mode\": " + (floor ? "true" : "false"));
}

void Importer::batchnorm(int i, const ::onnx::NodeProto& n) {
  NABLA_CHECK(int_attr(n, "training_mode", 0) == 0, where(i, n),
              ": training_mode is not supported");
  const size_t rank = shape().size();
  NABLA_CHECK(rank == 1 || rank == 3, where(i, n), ": input of per-sample rank ", rank,
              "; batch norm imports for (N, C) and (N, C, H, W)");
  const std::string at = prefix();
  add_layer(std::string("\"type\": \"") + (rank == 1 ? "batchnorm1d" : "batchnorm2d") +
            "\", \"eps\": " + json_number(float_attr(n, "epsilon", 1e-5)));
  const char* names[] = {"weight", "bias", "running_mean", "running_var"};
  for (int k = 0; k < 4; ++k) weights_[at + "." + names[k]] = floats(i, n, k + 1);
}

// Reshape by a constant shape that merges a run of dims, as a flatten layer (start_dim, end_dim,
// counting the batch dim as 0); any other reshape is refused. The batch entry must be 0 (copy)
// or -1; 0 elsewhere copies the input's dim, and one -1 takes what is left.
void Importer::reshape(int i, const ::onnx::NodeProto& n) {
  const std::vector<int64_t> target =
      proto::int64_values(constant(i, n, 1), where(i, n) + " shape");
  const std::vector<int64_t> s = shape();
  int64_t features = 1, known = 1;
  for (int64_t d : s) features *= d;
  std::vector<int64_t> out;
  bool ok = !target.empty() && (target[0] == 0 || target[0] == -1);
  int minus = 0;  // -1 entries after the batch's
  for (size_t k = 1; ok && k < target.size(); ++k) {
    const int64_t d = target[k] == 0 && k - 1 < s.size() ? s[k - 1] : target[k];
    if (d == -1)
      ++minus;
    else if (d > 0)
      known *= d;
    else
      ok = false;
    out.push_back(d);
  }
  if (ok && target[0] == -1)  // the batch inferred: the sample's dims are all given
    ok = minus == 0 && known == features;
  else if (ok)
    ok = minus == 0 ? known == features : minus == 1 && features % known == 0;
  for (int64_t& d : out)
    if (d == -1) d = features / known;
  // The flatten whose merged run gives `out`.
  for (size_t a = 0; ok && a < s.size(); ++a)
    for (size_t b = a; b < s.size(); ++b) {
      std::vector<int64_t> merged(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(a));
      int64_t run = 1;
      for (size_t k = a; k <= b; ++k) run *= s[k];
      merged.push_back(run);
      merged.insert(merged.end(), s.begin() + static_cast<std::ptrdiff_t>(b) + 1, s.end());
      if (merged != out) continue;
      add_layer("\"type\": \"flatten\", \"start_dim\": " + std::to_string(a + 1) +
                ", \"end_dim\": " + std::to_string(b + 1));
      return;
    }
  detail::throw_error(where(i, n), ": only a reshape that merges neighbouring dims of ",
                      nn::per_sample_str(s), " (a flatten) imports");
}

// nabla's maxout as exported: Reshape splitting dim d into (F / pieces, pieces), then ReduceMax
// over d + 1 without keepdims. Returns false when node i starts no such pair.
bool Importer::maxout(int i, const ::onnx::NodeProto& n) {
  const ::onnx::NodeProto* reduce = next(i, 1, "ReduceMax", n.output(0));
  if (reduce == nullptr || !has_input(n, 1) || !constants_.count(n.input(1))) return false;
  const std::vector<int64_t> target =
      proto::int64_values(constant(i, n, 1), where(i, n) + " shape");
  const std::vector<int64_t> s = shape();
  const std::vector<int64_t> axes = ints_attr(*reduce, "axes", {});
  if (axes.size() != 1 || int_attr(*reduce, "keepdims", 1) != 0 || target.size() != s.size() + 2)
    return false;
  const int64_t dim = axes[0] - 1, pieces = target[static_cast<size_t>(axes[0])];
  if (dim < 1 || pieces < 1 ||
      target[static_cast<size_t>(dim)] * pieces != s[static_cast<size_t>(dim - 1)])
    return false;
  add_layer("\"type\": \"maxout\", \"pieces\": " + std::to_string(pieces) +
            ", \"dim\": " + std::to_string(dim));
  return true;
}

// nabla's softplus as exported: Where(Greater(Mul(x, beta), threshold), x,
// Div(Softplus(Mul(x, beta)), beta)), five nodes from node i.
bool Importer::softplus(int i, const ::onnx::NodeProto& n) {
  const ::onnx::NodeProto* sp = next(i, 1, "Softplus", n.output(0));
  const ::onnx::NodeProto* div = sp ? next(i, 2, "Div", sp->output(0)) : nullptr;
  const ::onnx::NodeProto* greater = next(i, 3, "Greater", n.output(0));
  const ::onnx::NodeProto* where_node = greater ? next(i, 4, "Where", greater->output(0)) : nullptr;
  if (!div || !where_node || where_node->input(1) != n.input(0) ||
      where_node->input(2) != div->output(0) || !has_input(n, 1) || !has_input(*greater, 1))
    return false;
  const std::vector<float> beta = floats(i, n, 1).values;
  const std::vector<float> threshold = floats(i + 3, *greater, 1).values;
  if (beta.size() != 1 || threshold.size() != 1 || div->input(1) != n.input(1)) return false;
  add_layer("\"type\": \"softplus\", \"beta\": " + json_number(beta[0]) +
            ", \"threshold\": " + json_number(threshold[0]));
  return true;
}

// Sub or Div by per-channel constants before any layer: the input normalisation.
void Importer::normalization(int i, const ::onnx::NodeProto& n, std::vector<float>& into) {
  const Weight w = floats(i, n, 1);
  const size_t C = static_cast<size_t>(sample_shape_[0]);
  NABLA_CHECK(w.values.size() == C || w.values.size() == 1, where(i, n), ": ", w.values.size(),
              " constants for ", C, " channels; only per-channel normalisation imports");
  into = w.values.size() == C ? w.values : std::vector<float>(C, w.values[0]);
}

ImportedModel Importer::run() {
  read_input();
  std::string current;
  for (const ::onnx::ValueInfoProto& v : graph_.input())
    if (!constants_.count(v.name())) current = v.name();
  bool softmax_last = false;
  const int count = graph_.node_size();
  for (int i = 0; i < count; ++i) {
    const ::onnx::NodeProto& n = graph_.node(i);
    const std::string& op = n.op_type();
    NABLA_CHECK(n.domain().empty() || n.domain() == "ai.onnx", where(i, n), ": domain '",
                n.domain(), "' is not ONNX's default");
    if (op == "Constant") {
      const ::onnx::AttributeProto* value = attribute(n, "value");
      NABLA_CHECK(value != nullptr && n.output_size() == 1, where(i, n),
                  ": only a Constant with a tensor 'value' imports");
      constants_[n.output(0)] = &value->t();
      continue;
    }
    NABLA_CHECK(n.input_size() >= 1 && n.input(0) == current, where(i, n), ": reads '",
                n.input_size() ? n.input(0) : "", "' rather than '", current,
                "', the previous node's output; only a chain of nodes imports");
    NABLA_CHECK(n.output_size() >= 1, where(i, n), ": has no output");
    const bool first = layers_.empty();
    if (op != "Identity") softmax_last = false;
    if (op == "Identity") {
      // nothing to add: the chain goes on from its output
    } else if (op == "Pad") {
      // torch.onnx.export writes AvgPool2d as a Pad of zeros before AveragePool.
      for (int64_t v : proto::int64_values(constant(i, n, 1), where(i, n) + " pads"))
        NABLA_CHECK(v == 0, where(i, n),
                    ": only a Pad of nothing imports (nabla pads inside "
                    "its conv and pooling layers)");
    } else if (op == "Sub" && first && mean_.empty() && std_.empty()) {
      normalization(i, n, mean_);
    } else if (op == "Div" && first && std_.empty()) {
      normalization(i, n, std_);
    } else if (op == "Conv") {
      conv(i, n);
    } else if (op == "Gemm") {
      NABLA_CHECK(int_attr(n, "transA", 0) == 0, where(i, n), ": transA is not supported");
      Weight w = floats(i, n, 1);
      const float alpha = static_cast<float>(float_attr(n, "alpha", 1.0));
      const float beta = static_cast<float>(float_attr(n, "beta", 1.0));
      for (float& v : w.values) v *= alpha;
      Weight b;
      if (has_input(n, 2)) {
        b = floats(i, n, 2);
        for (float& v : b.values) v *= beta;
      }
      linear(i, n, std::move(w), int_attr(n, "transB", 0) == 0, has_input(n, 2) ? &b : nullptr);
    } else if (op == "MatMul") {
      Weight w = floats(i, n, 1);
      // A following Add of a constant to this output is the bias.
      if (i + 1 < count && graph_.node(i + 1).op_type() == "Add" &&
          graph_.node(i + 1).input_size() == 2) {
        const ::onnx::NodeProto& add = graph_.node(i + 1);
        const int k = add.input(0) == n.output(0) ? 1 : add.input(1) == n.output(0) ? 0 : -1;
        if (k >= 0 && constants_.count(add.input(k))) {
          const Weight b = floats(i + 1, add, k);
          linear(i, n, std::move(w), true, &b);
          current = add.output(0);
          ++i;
          continue;
        }
      }
      linear(i, n, std::move(w), true, nullptr);
    } else if (op == "Relu" || op == "Tanh" || op == "Sigmoid") {
      add_layer("\"type\": \"" +
                std::string(op == "Relu"   ? "relu"
                            : op == "Tanh" ? "tanh"
                                           : "sigmoid") +
                "\"");
    } else if (op == "LeakyRelu") {
      add_layer("\"type\": \"leakyrelu\", \"negative_slope\": " +
                json_number(float_attr(n, "alpha", 0.01f)));
    } else if (op == "Elu") {
      add_layer("\"type\": \"elu\", \"alpha\": " + json_number(float_attr(n, "alpha", 1.0)));
    } else if (op == "MaxPool" || op == "AveragePool") {
      pool(i, n);
    } else if (op == "GlobalAveragePool") {
      add_layer("\"type\": \"globalavgpool2d\", \"keepdim\": true");
    } else if (op == "BatchNormalization") {
      batchnorm(i, n);
    } else if (op == "Flatten") {
      const int64_t rank = static_cast<int64_t>(shape().size()) + 1;
      const int64_t axis = int_attr(n, "axis", 1);
      NABLA_CHECK(axis == 1 || axis == 1 - rank, where(i, n), ": axis ", axis,
                  " would merge the batch dim; only axis 1 imports");
      add_layer("\"type\": \"flatten\"");
    } else if (op == "Reshape" && maxout(i, n)) {
      current = graph_.node(++i).output(0);
      continue;
    } else if (op == "Reshape") {
      reshape(i, n);
    } else if (op == "Mul" && softplus(i, n)) {
      i += 4;
      current = graph_.node(i).output(0);
      continue;
    } else if (op == "Softplus") {
      add_layer("\"type\": \"softplus\"");  // nabla's threshold 20 changes it by < 3e-9
    } else if (op == "Dropout") {
      double p = 0.5;
      if (has_input(n, 1))
        p = proto::float_values(constant(i, n, 1), where(i, n) + " ratio").at(0);
      else if (opset_ < 12)
        p = float_attr(n, "ratio", 0.5);
      NABLA_CHECK(!has_input(n, 2), where(i, n), ": training_mode is not supported");
      add_layer("\"type\": \"dropout\", \"p\": " + json_number(p));
    } else if (op == "Softmax" || op == "LogSoftmax") {
      const int64_t rank = static_cast<int64_t>(shape().size()) + 1;
      // Before opset 13 the axis (default 1) cut the input into 2-d rows: the same on (N, F).
      int64_t axis = int_attr(n, "axis", opset_ < 13 ? 1 : -1);
      NABLA_CHECK(opset_ >= 13 || rank == 2, where(i, n), ": opset ", opset_,
                  " softmax on an input of rank ", rank, " (only rank 2 before opset 13)");
      add_layer(std::string("\"type\": \"") + (op == "Softmax" ? "softmax" : "logsoftmax") +
                "\", \"dim\": " + std::to_string(axis));
      softmax_last = op == "Softmax";
    } else {
      detail::throw_error(where(i, n), ": operator ", op,
                          " has no nabla layer; docs/onnx.md lists the operators that import");
    }
    try {
      if (!layers_.empty()) shape();  // each layer checked against the shape reaching it
    } catch (const Error& e) {
      detail::throw_error(where(i, n), ": ", e.what());
    }
    current = n.output(0);
  }
  NABLA_CHECK(graph_.output_size() == 1 && graph_.output(0).name() == current, source_,
              ": the graph's output is not the end of the node chain ('", current, "')");
  NABLA_CHECK(!layers_.empty(), source_, ": the graph has no layers");

  ImportedModel m;
  m.description = description();
  m.model = model_from_json(m.description, 0, source_);
  for (auto list : {m.model->named_parameters(), m.model->named_buffers()})
    for (auto& [name, tensor] : list) {
      const auto it = weights_.find(name);
      if (it == weights_.end()) continue;
      NABLA_CHECK(tensor.numel() == static_cast<int64_t>(it->second.values.size()), source_, ": '",
                  name, "' holds ", it->second.values.size(), " values; the layer needs ",
                  tensor.shape());
      std::memcpy(tensor.data<float>(), it->second.values.data(),
                  it->second.values.size() * sizeof(float));
      weights_.erase(it);
    }
  NABLA_CHECK(weights_.empty(), source_, ": weight '", weights_.begin()->first,
              "' has no place in the model");
  m.model->eval();
  m.sample_shape = sample_shape_;
  if (!mean_.empty() || !std_.empty()) {
    m.input_mean = mean_.empty() ? std::vector<float>(sample_shape_[0], 0.0f) : mean_;
    m.input_std = std_.empty() ? std::vector<float>(sample_shape_[0], 1.0f) : std_;
  }
  m.ends_in_softmax = softmax_last;
  return m;
}

}  // namespace

ImportedModel import_model_bytes(const std::string& bytes, const std::string& source) {
  ::onnx::ModelProto model;
  NABLA_CHECK(model.ParseFromString(bytes), source,
              ": not an ONNX model (the protobuf does not "
              "parse)");
  NABLA_CHECK(model.has_graph(), source, ": the ONNX model has no graph");
  ImportedModel m = Importer(model, source).run();
  for (const ::onnx::StringStringEntryProto& entry : model.metadata_props()) {
    if (entry.key() != "nabla.class_names") continue;
    std::istringstream names(entry.value());
    for (std::string name; std::getline(names, name);) m.class_names.push_back(name);
  }
  return m;
}

ImportedModel import_model(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  NABLA_CHECK(file.good(), "cannot open the ONNX model ", path);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return import_model_bytes(bytes.str(), path);
}

}  // namespace nabla::onnx
