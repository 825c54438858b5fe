// JSON model descriptions: every input goes through the full check and shape inference
// (description_cost, which allocates no weight); descriptions that pass and need at most 2^20
// weight values are then built, so the modules' own constructors see every accepted option.
// Bigger ones are legal models, not bugs, and would only slow the fuzzer down.
#include "fuzz_util.h"
#include "models/description.h"
#include "nabla/error.h"
#include "nabla/models.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nabla::models_detail::DescriptionCost cost =
        nabla::models_detail::description_cost(text, "model.json");
    if (cost.output.empty()) std::abort();
    if (cost.weight_values <= (1 << 20)) {
      auto model = nabla::model_from_json(text, 1, "model.json");
      if (!model || model->size() == 0) std::abort();
    }
  } catch (const nabla::Error&) {
  }
  return 0;
}
