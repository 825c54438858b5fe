// NABLA_ARG moved to nabla/arg.h, a neutral header, so that data, optim and train
// can name options without including nn/. Kept so existing includes of nn/options.h still compile.
#pragma once

#include "nabla/arg.h"
