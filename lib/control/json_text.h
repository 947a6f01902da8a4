#pragma once
// JSON to one protocol line. Peer-supplied text (SIP messages, reason phrases) may hold
// bytes that are not UTF-8; they are replaced rather than allowed to throw.
#include <nlohmann/json.hpp>

#include <string>

namespace sipreg::control {

// Compact JSON followed by '\n'.
std::string toLine(const nlohmann::json& value);

// {"ok":false,"error":message}
nlohmann::json errorReply(std::string message);

}  // namespace sipreg::control
