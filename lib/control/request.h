#pragma once
// One control request: a JSON object on one line, e.g. {"cmd":"show","line":"alice"}.
// Parsing never throws; every way a client can get it wrong is an Error saying what.
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::control {

enum class Command { Status, Show, Refresh, Reload, Check, Trace };

std::string_view commandName(Command c) noexcept;

struct Request {
    Command command = Command::Status;
    std::optional<std::string> line;  // show, refresh (one line), trace (one line); nullopt: all
    bool all = false;                 // refresh --all
};

// Deeper JSON than this is refused before parsing: no request needs more than 2 levels.
inline constexpr int kMaxRequestDepth = 8;

Result<Request> parseRequest(std::string_view text);

}  // namespace sipreg::control
