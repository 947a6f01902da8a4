#pragma once
// Splits a byte stream into lines ('\n', an optional '\r' before it is dropped), refusing
// any line longer than a bound so a client cannot make the daemon hold unbounded input.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sipreg::control {

class LineBuffer {
public:
    explicit LineBuffer(std::size_t maxLine) : maxLine_(maxLine) {}

    // Appends bytes and moves every complete line into `out` (without its terminator).
    // Returns false once the bound is passed: the buffer is then unusable (overflowed()).
    bool feed(std::string_view bytes, std::vector<std::string>& out);

    bool overflowed() const noexcept { return overflowed_; }
    std::size_t pending() const noexcept { return partial_.size(); }
    std::size_t maxLine() const noexcept { return maxLine_; }

private:
    std::size_t maxLine_;
    std::string partial_;
    bool overflowed_ = false;
};

}  // namespace sipreg::control
