// The four sanity checks of app/sanity.h. Each builds its own model from the factory, so the
// checks do not see each other's training or dtype change. The gradient check reuses
// nabla::gradcheck (gradcheck.h); what is particular here is only how a module's parameters are
// handed to it (see link_parameter).
#include "app/sanity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "app/run.h"
#include "nabla/data/dataloader.h"
#include "nabla/error.h"
#include "nabla/gradcheck.h"
#include "nabla/models.h"
#include "nabla/nn/dropout.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/random.h"
#include "nabla/threads.h"
#include "nabla/train/trainer.h"

namespace nabla::app {

namespace {

// `count` samples of `train` (all of them when it has fewer), drawn by a seeded shuffle,
// normalised, as one batch.
data::Batch sample_batch(const data::Dataset& train, const data::Normalization& normalization,
                         int64_t count, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  Generator gen(seed);
  const int64_t n = std::min(count, train.size());
  for (int64_t i = 0; i < n; ++i)
    std::swap(order[static_cast<size_t>(i)],
              order[static_cast<size_t>(i + static_cast<int64_t>(gen.below(train.size() - i)))]);
  order.resize(static_cast<size_t>(n));
  const data::DataLoader loader(train.subset(order),
                                data::DataLoaderOptions(n).normalize(normalization));
  return loader.epoch(0).batch(0);
}

// Training mode (batch norm uses the batch's statistics) with every layer that holds random state
// (dropout) in eval mode: the checks want no regularisation, and the gradient check needs a
// deterministic function.
void train_without_dropout(nn::Module& m) {
  if (m.random_generator() != nullptr) {
    m.eval();
    return;
  }
  m.train(true);
  for (const auto& [name, child] : m.named_children()) train_without_dropout(*child);
}

// Mean over samples of the standard deviation of a sample's logits across the classes.
double logit_spread(const Tensor& logits) {
  const std::vector<double> z = logits.detach().contiguous().to_vector();
  const int64_t rows = logits.size(0), cols = logits.size(1);
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, sq = 0;
    for (int64_t c = 0; c < cols; ++c) mean += z[static_cast<size_t>(r * cols + c)];
    mean /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c) {
      const double d = z[static_cast<size_t>(r * cols + c)] - mean;
      sq += d * d;
    }
    total += std::sqrt(sq / static_cast<double>(cols));
  }
  return total / static_cast<double>(rows);
}

void check_logits(const Tensor& logits, int64_t batch, int64_t classes) {
  NABLA_CHECK(logits.dim() == 2 && logits.size(0) == batch && logits.size(1) == classes,
              "sanity: the model maps a batch of ", batch, " samples to ", logits.shape(),
              "; expected logits [", batch, ", ", classes, "] for ", classes, " classes");
}

// gradcheck() perturbs float64 copies of its inputs, while a module computes with its own
// parameter tensors. For the duration of one call of the checked function, the parameter's
// shared TensorImpl (the one every handle to it sees, as Module::to rewrites it) is made a view
// of the copy: same storage, so a perturbation of the copy reaches the forward pass, and a
// reshape node to the copy, so backward delivers the gradient to the copy. restore() undoes it.
class ParameterLink {
 public:
  explicit ParameterLink(Tensor parameter)
      : parameter_(std::move(parameter)), saved_(parameter_.impl()) {}
  ~ParameterLink() { restore(); }
  ParameterLink(const ParameterLink&) = delete;
  ParameterLink& operator=(const ParameterLink&) = delete;

  void link(const Tensor& copy) {
    const Tensor view = copy.view(copy.shape());  // a graph node only when grad mode is on
    TensorImpl& impl = parameter_.impl();
    impl.storage = view.impl().storage;
    impl.strides = view.strides();
    impl.offset = view.offset();
    impl.grad_fn = view.impl().grad_fn;
    impl.requires_grad = view.requires_grad();
  }
  void restore() {
    TensorImpl& impl = parameter_.impl();
    impl.storage = saved_.storage;
    impl.strides = saved_.strides;
    impl.offset = saved_.offset;
    impl.grad_fn = nullptr;
    impl.requires_grad = saved_.requires_grad;
    impl.grad.reset();
  }

 private:
  Tensor parameter_;
  TensorImpl saved_;
};

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * fraction);
  return buf;
}

std::string shape_string(const std::vector<int64_t>& index) {
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) s += (i ? ", " : "") + std::to_string(index[i]);
  return s + "]";
}

}  // namespace

std::string SanityReport::str() const {
  const SanityOptions& o = options;
  std::ostringstream s;
  char line[512];
  auto verdict = [](bool ok) { return ok ? "PASS" : "FAIL"; };
  std::snprintf(line, sizeof line,
                "%s  (a) loss at init %.4f, expected ln %lld = %.4f (|diff| %.4f, allowed %.4f; "
                "logit spread %.3f)\n",
                verdict(init_passed), init_loss, static_cast<long long>(num_classes),
                expected_init_loss, std::abs(init_loss - expected_init_loss),
                o.init_tolerance * expected_init_loss, init_logit_spread);
  s << line;
  // What to try after a failure, as CS231n's lecture 6 advises; docs/training.md explains each.
  if (!init_passed)
    s << "      try: smaller initial weights in the last layer, so the logits start near 0 (a "
         "spread logit gives a loss far from ln C); check that the labels are 0..C-1\n";
  std::snprintf(line, sizeof line,
                "%s  (b) loss with L2 %g*sum(w^2) is %.4f, up from %.4f (penalty %.4g)\n",
                verdict(reg_passed), o.reg_strength, reg_loss, init_loss, reg_penalty);
  s << line;
  if (!reg_passed)
    s << "      try: check that the model's weights are registered parameters (a penalty over no "
         "weights adds nothing)\n";
  std::snprintf(line, sizeof line,
                "%s  (c) overfit %lld examples: %s training accuracy after %lld Adam steps "
                "(lr %g, at most %lld), loss %.4f\n",
                verdict(overfit_passed), static_cast<long long>(o.overfit_samples),
                percent(overfit_accuracy).c_str(), static_cast<long long>(overfit_steps),
                o.overfit_lr, static_cast<long long>(o.overfit_max_steps), overfit_loss);
  s << line;
  if (!overfit_passed)
    s << "      try: another --overfit-lr (x3 or /3), more --overfit-steps, a larger model, or "
         "less regularisation (--dropout 0, no weight decay); a model that cannot fit "
      << o.overfit_samples << " examples will not learn the data set\n";
  int64_t checked = 0;
  for (const ParameterGradcheck& g : gradchecks) checked += g.checked;
  std::snprintf(line, sizeof line,
                "%s  (d) gradcheck float64, batch %lld: max relative error %.3e over %lld entries "
                "of %zu parameter tensors (tolerance %g)\n",
                verdict(gradcheck_passed), static_cast<long long>(o.gradcheck_batch),
                gradcheck_max_rel_error, static_cast<long long>(checked), gradchecks.size(),
                o.gradcheck_tolerance);
  s << line;
  if (!gradcheck_passed)
    s << "      try: nabla gradcheck, to find the op whose backward disagrees; a layer with a "
         "kink (ReLU, max pool) near an input can fail by chance: another --seed tells\n";
  for (const ParameterGradcheck& g : gradchecks) {
    std::snprintf(line, sizeof line,
                  "        %-24s max rel err %.3e at %-16s analytic %13.6g numeric %13.6g%s\n",
                  g.name.c_str(), g.max_rel_error, shape_string(g.worst_index).c_str(), g.analytic,
                  g.numeric, g.max_rel_error < o.gradcheck_tolerance ? "" : "  <-- FAIL");
    s << line;
  }
  return s.str();
}

SanityReport run_sanity_checks(const ModelFactory& make_model, const data::Dataset& train,
                               const data::Normalization& normalization, const SanityOptions& o) {
  NABLA_CHECK(train.size() > 0, "sanity: the data set ", train.name(), " has no samples");
  NABLA_CHECK(o.init_batch > 0 && o.overfit_samples > 0 && o.gradcheck_batch > 0 &&
                  o.gradcheck_elements > 0 && o.overfit_max_steps > 0,
              "sanity: sample counts and --overfit-steps must be positive (init batch ",
              o.init_batch, ", overfit samples ", o.overfit_samples, ", gradcheck batch ",
              o.gradcheck_batch, ", gradcheck elements ", o.gradcheck_elements, ", overfit steps ",
              o.overfit_max_steps, ")");
  NABLA_CHECK(o.reg_strength > 0, "sanity: the regularisation strength must be positive, got ",
              o.reg_strength);
  SanityReport r;
  r.options = o;
  r.num_classes = train.num_classes();
  r.expected_init_loss = std::log(static_cast<double>(r.num_classes));

  // (a) and (b): one forward pass of the untrained model, with and without the penalty.
  {
    std::shared_ptr<nn::Module> model = make_model();
    train_without_dropout(*model);
    const data::Batch batch = sample_batch(train, normalization, o.init_batch, o.seed);
    const Tensor logits = model->forward(batch.images);
    check_logits(logits, batch.images.size(0), r.num_classes);
    const Tensor data_loss = cross_entropy(logits, batch.labels);
    r.init_loss = data_loss.item();
    r.init_logit_spread = logit_spread(logits);
    r.init_passed = std::isfinite(r.init_loss) && std::abs(r.init_loss - r.expected_init_loss) <=
                                                      o.init_tolerance * r.expected_init_loss;

    // The lecture's penalty is on the weights (matrices and kernels), not on biases.
    Tensor penalty = Tensor::scalar(0);
    for (const Tensor& p : model->parameters())
      if (p.dim() >= 2) penalty = add(penalty, sum(mul(p, p)));
    penalty = mul(penalty, Tensor::scalar(o.reg_strength));
    const Tensor total = add(data_loss, penalty);
    r.reg_penalty = penalty.item();
    r.reg_loss = total.item();
    r.reg_passed = std::isfinite(r.reg_loss) && r.reg_loss > r.init_loss;
  }

  // (c): full-batch Adam on a few samples; accuracy is read from each step's own forward pass,
  // so `steps` is the number of updates made before the model got every sample right.
  {
    std::shared_ptr<nn::Module> model = make_model();
    train_without_dropout(*model);
    const data::Batch batch = sample_batch(train, normalization, o.overfit_samples, o.seed + 1);
    optim::Adam adam(model->parameters(), optim::AdamOptions(o.overfit_lr));
    const auto n = static_cast<int64_t>(batch.labels.size());
    for (int64_t step = 0;; ++step) {
      adam.zero_grad();
      const Tensor logits = model->forward(batch.images);
      check_logits(logits, n, r.num_classes);
      const Tensor loss = cross_entropy(logits, batch.labels);
      r.overfit_steps = step;
      r.overfit_loss = loss.item();
      r.overfit_accuracy = static_cast<double>(train::count_correct(logits, batch.labels)) / n;
      if (r.overfit_accuracy == 1.0 || step == o.overfit_max_steps ||
          !std::isfinite(r.overfit_loss))
        break;
      loss.backward();
      adam.step();
    }
    r.overfit_passed = r.overfit_accuracy == 1.0;
  }

  // (d): gradcheck of the loss on a float64 copy of the model, a few entries of each parameter.
  {
    std::shared_ptr<nn::Module> model = make_model();
    model->to(kFloat64);
    train_without_dropout(*model);
    const data::Batch batch = sample_batch(train, normalization, o.gradcheck_batch, o.seed + 2);
    const Tensor images = batch.images.to(kFloat64);
    const std::vector<int64_t> labels = batch.labels;
    r.gradcheck_passed = true;
    const auto named = model->named_parameters();
    for (size_t i = 0; i < named.size(); ++i) {
      const auto& [name, parameter] = named[i];
      ParameterLink link(parameter);
      nn::Module* m = model.get();
      const TensorFn loss_of = [m, &link, &images, &labels](const std::vector<Tensor>& x) {
        link.link(x[0]);
        return cross_entropy(m->forward(images), labels);
      };
      GradcheckOptions options;
      options.max_elements = o.gradcheck_elements;
      options.tolerance = o.gradcheck_tolerance;
      options.seed = o.seed + 3 + i;
      const GradcheckResult g = gradcheck(loss_of, {parameter.detach()}, options);
      link.restore();
      model->zero_grad();
      r.gradchecks.push_back({name, g.max_rel_error, g.checked, g.index, g.analytic, g.numeric});
      r.gradcheck_max_rel_error = std::max(
          r.gradcheck_max_rel_error, std::isnan(g.max_rel_error) ? INFINITY : g.max_rel_error);
      r.gradcheck_passed = r.gradcheck_passed && g.passed;
    }
    NABLA_CHECK(!named.empty(), "sanity: the model has no parameters to check");
  }
  return r;
}

SanityReport run_sanity_checks(const SanityOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  RunOptions run;
  run.model = o.model;
  run.dataset = o.dataset;
  run.data_dir = o.data_dir;
  run.seed = o.seed;
  run.train_subset = o.train_subset;
  const data::Dataset train = load_run_dataset(run, data::Split::Train);
  const data::Normalization normalization = data::compute_normalization(train);

  // The same description `nabla train` builds, so the checked weights are the ones it starts from.
  const std::string description = model_description(run, train.sample_shape(), train.num_classes());
  const ModelFactory factory = [description, &o]() -> std::shared_ptr<nn::Module> {
    return model_from_json(description, o.seed, o.model);
  };
  return run_sanity_checks(factory, train, normalization, o);
}

}  // namespace nabla::app
