#pragma once
// A credential held in memory. It cannot be streamed or formatted by accident: every
// printing path shows "<redacted>", and the value is only reachable through reveal().
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace sipreg::config {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}

    // The only way to the plain value; call it where the credential is used, nowhere else.
    const std::string& reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }

    static constexpr std::string_view kRedacted = "<redacted>";

    // Equality lets a reload notice a rotated password without anyone printing it.
    friend bool operator==(const Secret&, const Secret&) = default;

private:
    std::string value_;
};

inline std::ostream& operator<<(std::ostream& out, const Secret&) { return out << Secret::kRedacted; }

}  // namespace sipreg::config
