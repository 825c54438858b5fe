// The umbrella header: everything a user needs.
#pragma once

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/init.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/module.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/optimizer.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/random.h"
#include "nabla/tensor.h"
