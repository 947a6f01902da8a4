#pragma once
// One problem found in a configuration file: where it is, which key, and what was expected.
#include <string>
#include <string_view>

namespace sipreg::config {

struct ConfigIssue {
    std::string file;    // display name of the file
    int line = 0;        // 1-based; 0 when unknown
    int column = 0;      // 1-based; 0 when unknown
    std::string path;    // key path such as "lines[3].auth.password_file"; may be empty
    std::string message;

    // "file:line:col: path: message" (position and path left out when unknown).
    std::string toString() const;
    // Same with a severity word after the position, as compilers print it:
    // "file:line:col: error: path: message".
    std::string format(std::string_view severity) const;
};

}  // namespace sipreg::config
