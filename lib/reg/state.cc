#include "reg/state.h"

namespace sipreg::reg {

std::string_view stateName(State s) noexcept {
    switch (s) {
        case State::Stopped: return "stopped";
        case State::Registering: return "registering";
        case State::Registered: return "registered";
        case State::Waiting: return "waiting";
        case State::Failed: return "failed";
        case State::Unregistering: return "unregistering";
    }
    return "stopped";
}

}  // namespace sipreg::reg
