// Run-time instruction-set choice (kernels/cpu/isa.h): what is detected is runnable, overrides
// are checked against the CPU, and NABLA_ISA reaches the kernels of a real process.
#include "kernels/cpu/isa.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "nabla/error.h"

namespace nabla {
namespace {

using cpu::Isa;

TEST(Isa, DetectedIsSupportedAndOrdered) {
  EXPECT_TRUE(cpu::isa_supported(cpu::detected_isa()));
  EXPECT_TRUE(cpu::isa_supported(Isa::generic));
  if (cpu::isa_supported(Isa::avx512)) {
    EXPECT_TRUE(cpu::isa_supported(Isa::avx2));
  }
  // For the log: which kernels the rest of the suite could test on this machine.
  std::cout << "detected instruction set: " << cpu::isa_name(cpu::detected_isa()) << "\n";
}

TEST(Isa, NamesRoundTripAndUnknownNamesAreErrors) {
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    EXPECT_EQ(cpu::parse_isa(cpu::isa_name(isa)), isa);
  try {
    cpu::parse_isa("avx1024");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("avx1024"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("generic, avx2 or avx512"), std::string::npos);
  }
}

TEST(Isa, VectorBitsGrowWithTheSet) {
  // The benchmarks' peak probe runs at this width, so AVX2 kernels are measured against AVX2's
  // peak on an AVX-512 CPU.
  EXPECT_EQ(cpu::isa_vector_bits(Isa::generic), 128);
  EXPECT_EQ(cpu::isa_vector_bits(Isa::avx2), 256);
  EXPECT_EQ(cpu::isa_vector_bits(Isa::avx512), 512);
}

TEST(Isa, ScopedIsaOverridesAndRestores) {
  const Isa before = cpu::active_isa();
  {
    cpu::ScopedIsa generic(Isa::generic);
    EXPECT_EQ(cpu::active_isa(), Isa::generic);
    {
      cpu::ScopedIsa widest(cpu::detected_isa());
      EXPECT_EQ(cpu::active_isa(), cpu::detected_isa());
    }
    EXPECT_EQ(cpu::active_isa(), Isa::generic);
  }
  EXPECT_EQ(cpu::active_isa(), before);
}

TEST(Isa, ScopedIsaRefusesWhatTheCpuLacks) {
  if (cpu::isa_supported(Isa::avx512)) GTEST_SKIP() << "this CPU has every set";
  try {
    cpu::ScopedIsa scoped(Isa::avx512);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not support avx512"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cpu::active_isa(), cpu::detected_isa());
}

// The CLI's gradcheck runs a product large enough for the kernels, so NABLA_ISA must reach them.
int run_cli(const std::string& env, std::string& output) {
  const std::string out = testing::TempDir() + "nabla_isa_test.txt";
  const std::string cmd =
      env + " '" + std::string(NABLA_CLI) + "' gradcheck --op matmul >'" + out + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  output = text.str();
  return status;
}

TEST(Isa, EnvironmentPicksTheKernelAndRejectsWhatTheCpuLacks) {
  std::string output;
  EXPECT_EQ(run_cli("NABLA_ISA=generic", output), 0) << output;
  EXPECT_NE(run_cli("NABLA_ISA=sse9", output), 0) << output;
  EXPECT_NE(output.find("NABLA_ISA"), std::string::npos) << output;
  if (!cpu::isa_supported(Isa::avx512)) {
    EXPECT_NE(run_cli("NABLA_ISA=avx512", output), 0) << output;
    EXPECT_NE(output.find("does not support avx512"), std::string::npos) << output;
  }
}

}  // namespace
}  // namespace nabla
