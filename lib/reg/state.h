#pragma once
// The public vocabulary of a line's state. Logs, STATUS, the control CLI and metrics all
// use exactly these words.
#include <cstdint>
#include <string_view>

namespace sipreg::reg {

enum class State : uint8_t {
    Stopped,        // not started, or stopped: nothing registered, nothing pending
    Registering,    // a REGISTER is under way and no binding is known to be alive
    Registered,     // the registrar holds our binding (refreshes happen in this state)
    Waiting,        // backoff after a transient failure
    Failed,         // refused (credentials, 403/404, ...): long retry
    Unregistering,  // removing the binding (Expires: 0)
};

// "stopped", "registering", "registered", "waiting", "failed", "unregistering".
std::string_view stateName(State s) noexcept;

}  // namespace sipreg::reg
