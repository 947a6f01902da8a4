#pragma once
// Reads files from tests/data (the path is compiled in by tests/CMakeLists.txt).
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace sipreg::test {

inline std::string dataPath(const std::string& relative) {
    return std::string(SIPREG_TEST_DATA_DIR) + "/" + relative;
}

inline std::string readDataFile(const std::string& relative) {
    std::ifstream in(dataPath(relative), std::ios::binary);
    if (!in) throw std::runtime_error("cannot open test data " + dataPath(relative));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace sipreg::test
