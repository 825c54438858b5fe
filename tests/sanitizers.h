// NABLA_UNDER_ASAN: 1 when this test binary is built with AddressSanitizer, else 0. g++ defines
// __SANITIZE_ADDRESS__; clang (the asan preset's compiler) answers __has_feature instead.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define NABLA_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NABLA_UNDER_ASAN 1
#endif
#endif
#ifndef NABLA_UNDER_ASAN
#define NABLA_UNDER_ASAN 0
#endif
