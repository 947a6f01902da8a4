#pragma once
// What a reload did, for whoever asked for it (SIGHUP logs it; `sipregctl reload` prints it).
#include <string>
#include <vector>

#include "config/diff.h"

namespace sipreg::daemon {

struct ReloadOutcome {
    bool applied = false;             // false: the running configuration stays in force
    std::vector<std::string> errors;  // file:line:column messages when refused
    std::vector<std::string> warnings;
    config::ConfigDiff diff;          // applied only
};

}  // namespace sipreg::daemon
