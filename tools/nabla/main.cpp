#include <iostream>
#include "nabla/nabla.h"
int main() { std::cout << nabla::Tensor::arange(0, 6).reshape({2, 3}) << "\n"; }
