#pragma once
// SIP messages as they may appear in a log: the value of every Authorization and
// Proxy-Authorization header is reduced to its non-secret parameters.
#include <string>
#include <string_view>

namespace sipreg::app {

std::string redactForLog(std::string_view message);

}  // namespace sipreg::app
