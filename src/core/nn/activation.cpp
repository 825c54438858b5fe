// Activation modules: each forwards to its op in src/ops/activation.cpp (Softplus composes
// several), and their descriptions for the model descriptions.
#include "nabla/nn/activation.h"

#include <limits>
#include <sstream>

#include "nabla/ops.h"
#include "nn/layer_checks.h"

namespace nabla::nn {

namespace {
// Formats a double as PyTorch prints module options: 0.01, 1.0, 0.2.
std::string number(double value) {
  std::ostringstream out;
  out << value;
  std::string s = out.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

Tensor ReLU::forward(const Tensor& input) {
  return relu(input);
}
Tensor Sigmoid::forward(const Tensor& input) {
  return sigmoid(input);
}
Tensor Tanh::forward(const Tensor& input) {
  return tanh(input);
}

Tensor LeakyReLU::forward(const Tensor& input) {
  return leaky_relu(input, options.negative_slope());
}
std::string LeakyReLU::extra_repr() const {
  return "negative_slope=" + number(options.negative_slope());
}

Tensor ELU::forward(const Tensor& input) {
  return elu(input, options.alpha());
}
std::string ELU::extra_repr() const {
  return "alpha=" + number(options.alpha());
}

Tensor Softmax::forward(const Tensor& input) {
  return softmax(input, options.dim());
}
std::string Softmax::extra_repr() const {
  return "dim=" + std::to_string(options.dim());
}

Tensor LogSoftmax::forward(const Tensor& input) {
  return log_softmax(input, options.dim());
}
std::string LogSoftmax::extra_repr() const {
  return "dim=" + std::to_string(options.dim());
}

Tensor Maxout::forward(const Tensor& input) {
  return maxout(input, options.pieces(), options.dim());
}
std::string Maxout::extra_repr() const {
  return "pieces=" + std::to_string(options.pieces()) + ", dim=" + std::to_string(options.dim());
}

Tensor Softplus::forward(const Tensor& input) {
  const double beta = options.beta();
  const Tensor z = input * beta, r = relu(z);
  // relu(z) + log(1 + exp(-|z|)), which cannot overflow, with -|z| written z - 2·relu(z): abs and
  // relu both have slope 0 at 0, which would make the slope there 0 instead of 1/2.
  const Tensor soft = (r + log(exp(z - 2.0 * r) + 1.0)) / beta;
  // Where z > threshold, y = x exactly, as PyTorch; the mask is a constant, so dy/dx is 1 there.
  std::vector<double> keep = z.detach().to_vector();
  bool any = false;
  for (double& k : keep) {
    k = k > options.threshold() ? 1.0 : 0.0;
    any = any || k != 0;
  }
  if (!any) return soft;
  const Tensor mask = Tensor::from_vector(keep, input.shape(), input.dtype());
  return input * mask + soft * (1.0 - mask);
}
std::string Softplus::extra_repr() const {
  return "beta=" + number(options.beta()) + ", threshold=" + number(options.threshold());
}

// ---- the descriptions: {"type": "relu"}, {"type": "leakyrelu", "negative_slope": 0.01}, ... ----

namespace {

using namespace layer_checks;

constexpr double kInf = std::numeric_limits<double>::infinity();

// The description of an activation without fields.
template <class M>
LayerType plain(const char* name) {
  return {name, {}, same_shape, make_plain<M>};
}

std::shared_ptr<Module> make_leakyrelu(const LayerConfig& c, Generator&) {
  return std::make_shared<LeakyReLU>(c.number("negative_slope"));
}

std::shared_ptr<Module> make_elu(const LayerConfig& c, Generator&) {
  return std::make_shared<ELU>(c.number("alpha"));
}

LayerShape infer_softmax(LayerConfig& c, const PerSample& s) {
  const int64_t dim = c.integer("dim");
  NABLA_CHECK(full_dim("dim", dim, s) != 0, "dim ", dim, " would normalise over the batch");
  return {.output = s};
}

template <class M>
std::shared_ptr<Module> make_softmax(const LayerConfig& c, Generator&) {
  return std::make_shared<M>(c.integer("dim"));
}

template <class M>
LayerType softmax_type(const char* name) {
  return {name, {FieldSpec::integer("dim", 1).written_always()}, infer_softmax, make_softmax<M>};
}

LayerShape infer_maxout(LayerConfig& c, const PerSample& s) {
  const int64_t dim = c.integer("dim"), pieces = c.integer("pieces");
  const int64_t d = full_dim("dim", dim, s);
  NABLA_CHECK(d != 0, "dim ", dim, " would take the maximum over the batch");
  PerSample out = s;
  int64_t& extent = out[static_cast<size_t>(d - 1)];
  NABLA_CHECK(extent % pieces == 0, "pieces ", pieces, " does not divide the ", extent,
              " entries of dim ", dim, " of input ", per_sample_str(s));
  extent /= pieces;
  return {.output = out};
}

std::shared_ptr<Module> make_maxout(const LayerConfig& c, Generator&) {
  return std::make_shared<Maxout>(MaxoutOptions(c.integer("pieces")).dim(c.integer("dim")));
}

LayerShape infer_softplus(LayerConfig& c, const PerSample& s) {
  NABLA_CHECK(c.number("beta") > 0, "beta ", c.number("beta"), " must be positive");
  return {.output = s};
}

std::shared_ptr<Module> make_softplus(const LayerConfig& c, Generator&) {
  return std::make_shared<Softplus>(
      SoftplusOptions(c.number("beta")).threshold(c.number("threshold")));
}

}  // namespace

const LayerType& ReLU::description() {
  static const LayerType type = plain<ReLU>("relu");
  return type;
}
const LayerType& Sigmoid::description() {
  static const LayerType type = plain<Sigmoid>("sigmoid");
  return type;
}
const LayerType& Tanh::description() {
  static const LayerType type = plain<Tanh>("tanh");
  return type;
}

const LayerType& LeakyReLU::description() {
  static const LayerType type{
      "leakyrelu",
      {FieldSpec::number("negative_slope", 0.01, -kInf, kInf).written_always()},
      same_shape,
      make_leakyrelu};
  return type;
}
LayerConfig LeakyReLU::config() const {
  return LayerConfig().set("negative_slope", options.negative_slope());
}

const LayerType& ELU::description() {
  static const LayerType type{
      "elu", {FieldSpec::number("alpha", 1.0, -kInf, kInf).written_always()}, same_shape, make_elu};
  return type;
}
LayerConfig ELU::config() const {
  return LayerConfig().set("alpha", options.alpha());
}

const LayerType& Softmax::description() {
  static const LayerType type = softmax_type<Softmax>("softmax");
  return type;
}
LayerConfig Softmax::config() const {
  return LayerConfig().set("dim", options.dim());
}

const LayerType& LogSoftmax::description() {
  static const LayerType type = softmax_type<LogSoftmax>("logsoftmax");
  return type;
}
LayerConfig LogSoftmax::config() const {
  return LayerConfig().set("dim", options.dim());
}

const LayerType& Maxout::description() {
  static const LayerType type{
      "maxout",
      {FieldSpec::integer("pieces", std::nullopt, 1), FieldSpec::integer("dim", 1)},
      infer_maxout,
      make_maxout};
  return type;
}
LayerConfig Maxout::config() const {
  return LayerConfig().set("pieces", options.pieces()).set("dim", options.dim());
}

const LayerType& Softplus::description() {
  static const LayerType type{"softplus",
                              {FieldSpec::number("beta", 1.0, -kInf, kInf),
                               FieldSpec::number("threshold", 20.0, -kInf, kInf)},
                              infer_softplus,
                              make_softplus};
  return type;
}
LayerConfig Softplus::config() const {
  return LayerConfig().set("beta", options.beta()).set("threshold", options.threshold());
}

}  // namespace nabla::nn
