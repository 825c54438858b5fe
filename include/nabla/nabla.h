// The umbrella header: everything a user needs.
#pragma once

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/ops.h"
#include "nabla/random.h"
#include "nabla/tensor.h"
