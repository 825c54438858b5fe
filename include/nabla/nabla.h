// The umbrella header of nabla::core: tensors, autograd, ops, layers, optimizers, gradient
// checks and checkpoints. It includes no header of data, plot, train or distributed, so a program
// that includes only it links nabla::core alone; those components have headers of their own
// (nabla/data/dataloader.h, nabla/io/plot.h, nabla/train/trainer.h, nabla/distributed.h).
#pragma once

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/gradcheck.h"
#include "nabla/io/checkpoint.h"
#include "nabla/memory.h"
#include "nabla/models.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/inference.h"
#include "nabla/nn/init.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/module.h"
#include "nabla/nn/normalization.h"
#include "nabla/nn/pooling.h"
#include "nabla/nn/sequential.h"
#include "nabla/ops.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/lr_scheduler.h"
#include "nabla/optim/optimizer.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
#include "nabla/random.h"
#include "nabla/tensor.h"
#include "nabla/threads.h"
