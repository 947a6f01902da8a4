#pragma once
// What a reload has to do: which lines to start, stop, restart or leave alone.
#include <string>
#include <vector>

#include "config/model.h"

namespace sipreg::config {

struct ConfigDiff {
    std::vector<std::string> added;      // in the new file's order
    std::vector<std::string> removed;    // in the old file's order
    std::vector<std::string> changed;    // any effective setting differs, secrets included
    std::vector<std::string> unchanged;
    bool globalChanged = false;

    bool empty() const noexcept { return added.empty() && removed.empty() && changed.empty() && !globalChanged; }
};

ConfigDiff diffConfigs(const Config& before, const Config& after);

}  // namespace sipreg::config
