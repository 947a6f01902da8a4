#pragma once
// Counts of lines per public state, and the one-line summary sd_notify STATUS carries.
#include <array>
#include <cstddef>
#include <string>

#include "reg/state.h"

namespace sipreg::app {

struct StateCounts {
    std::array<std::size_t, 6> byState{};  // indexed by reg::State
    std::size_t total = 0;                 // configured, enabled lines

    std::size_t operator[](reg::State s) const noexcept { return byState[static_cast<std::size_t>(s)]; }
    std::size_t& operator[](reg::State s) noexcept { return byState[static_cast<std::size_t>(s)]; }
};

// "412/420 registered, 2 registering, 4 waiting, 2 failed": registered always, the other
// states only when non-zero, each in the public state vocabulary.
std::string statusLine(const StateCounts& counts);

}  // namespace sipreg::app
