// "Did you mean ...?" for a mistyped name, and the list of valid names that follows it: the CLI's
// choices (`--optimizer adma`) and the fields and layer types of a JSON model file share them.
#pragma once

#include <string>
#include <vector>

namespace nabla {

// The choice closest to `value` by edit distance (Levenshtein, ignoring case), if it is within
// max(2, a third of the choice's length) edits; "" when none is that close.
std::string closest_choice(const std::string& value, const std::vector<std::string>& choices);

// " (did you mean 'x'?)" with closest_choice's answer, or "" when there is none.
std::string did_you_mean(const std::string& value, const std::vector<std::string>& choices);

// The choices as a message lists them: "a, b, c".
std::string join(const std::vector<std::string>& items);

}  // namespace nabla
