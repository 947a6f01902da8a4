#pragma once
// Turns one request line into its reply line (sans-I/O). A `trace` reply also tells the
// server to turn the connection into a trace stream.
#include <optional>
#include <string>
#include <string_view>

#include "control/backend.h"

namespace sipreg::control {

struct Reply {
    std::string line;                     // the JSON reply with its '\n'
    bool startTrace = false;              // the connection now streams trace events
    std::optional<std::string> traceLine; // only this line's messages; nullopt: all
};

Reply handleRequest(std::string_view requestLine, Backend& backend);

}  // namespace sipreg::control
