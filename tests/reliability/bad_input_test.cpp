// Every bad input nabla has been tried on, across every reader and entry point, and the message
// each gets: one table of cases {reader, case, how the input is made, fragments the message must
// hold}. Each case is its own test (BadInput/Case.Message/<n>); the fragments are what a user
// needs to act: the file, the byte offset or line, the op and shapes, the layer, the choices.
//
// NABLA_WRITE_BAD_INPUT_TABLE=path makes BadInput.WriteTable write the markdown table of the
// actual messages, which docs/reliability.md ("## Bad input") pastes:
//   NABLA_WRITE_BAD_INPUT_TABLE=/tmp/bad_input.md build/tests/nabla_tests
//   --gtest_filter='BadInput*'
//
// The cases are in bad_input_{data,files,runtime}_test.cpp, by reader (bad_input.h).
#include "bad_input.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace nabla::bad_input {
namespace {

std::vector<Case> cases() {
  Cases c;
  add_data_cases(c);
  add_file_cases(c);
  add_runtime_cases(c);
  return c.take();
}

class Case_ : public ::testing::TestWithParam<size_t> {};

TEST_P(Case_, Message) {
  static const std::vector<Case> all = cases();
  const Case& c = all[GetParam()];
  TempDir dir;
  SCOPED_TRACE(std::string(c.reader) + ": " + c.name + " (" + c.input + ")");
  const std::string message = c.run(dir);
  EXPECT_FALSE(c.fragments.empty());
  for (const std::string& fragment : c.fragments)
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "fragment '" << fragment << "' is not in the message:\n  " << message;
  EXPECT_EQ(message.find("(no error)"), std::string::npos);
  EXPECT_EQ(message.find("(not a nabla::Error"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BadInput, Case_, ::testing::Range<size_t>(0, cases().size()));

TEST(BadInput, AtLeastFortyCases) {
  EXPECT_GE(cases().size(), 40u);
}

// The markdown table docs/reliability.md shows, from the messages the readers give now.
TEST(BadInput, WriteTable) {
  const char* path = std::getenv("NABLA_WRITE_BAD_INPUT_TABLE");
  if (path == nullptr) GTEST_SKIP() << "set NABLA_WRITE_BAD_INPUT_TABLE=path to write the table";
  std::ofstream out(path);
  out << "| reader | case | input | message |\n| --- | --- | --- | --- |\n";
  for (const Case& c : cases()) {
    TempDir dir;
    std::string message = c.run(dir);
    // Paths in the scratch directory print as the file's own name.
    const std::string prefix = dir.str() + "/";
    for (size_t at; (at = message.find(prefix)) != std::string::npos;)
      message.erase(at, prefix.size());
    for (size_t at; (at = message.find(dir.str())) != std::string::npos;)
      message.replace(at, dir.str().size(), "DIR");
    std::string cell;
    for (char ch : message) {
      if (ch == '|')
        cell += "\\|";
      else if (ch == '\n')
        cell += ' ';
      else if (ch == '`')
        cell += '\'';
      else
        cell += ch;
    }
    std::string input = c.input;
    for (size_t at; (at = input.find('|')) != std::string::npos;) input.replace(at, 1, "\\|");
    out << "| " << c.reader << " | " << c.name << " | " << input << " | `" << cell << "` |\n";
  }
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace
}  // namespace nabla::bad_input
