#include "app/status_summary.h"

namespace sipreg::app {

std::string statusLine(const StateCounts& counts) {
    std::string s = std::to_string(counts[reg::State::Registered]) + "/" + std::to_string(counts.total) +
                    " registered";
    for (reg::State st : {reg::State::Registering, reg::State::Waiting, reg::State::Failed,
                          reg::State::Unregistering, reg::State::Stopped}) {
        if (counts[st] == 0) continue;
        s += ", ";
        s += std::to_string(counts[st]);
        s += ' ';
        s += reg::stateName(st);
    }
    return s;
}

}  // namespace sipreg::app
