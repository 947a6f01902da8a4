#pragma once
// "ip", "ip:port", "[ip6]" and "[ip6]:port" as operators write addresses of DNS servers and
// listening sockets. A bare IPv6 address takes no port ("::1:53" is itself an address), so
// an IPv6 address with a port needs the brackets.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipreg::config {

struct IpEndpoint {
    std::string address;  // canonical text (inet_ntop), IPv6 without brackets
    bool isIpv6 = false;
    std::optional<uint16_t> port;  // nullopt: none written
};

enum class EndpointProblem {
    UnclosedBracket,   // "[::1"
    JunkAfterBracket,  // "[::1]53"
    EmptyPort,         // "127.0.0.1:"
    BadPort,           // not 1..65535
    NotAnAddress,      // a name, or an IPv4 address in brackets
};

// On failure returns nullopt and sets `problem`; callers phrase the message for their key.
std::optional<IpEndpoint> parseIpEndpoint(std::string_view text, EndpointProblem& problem);

// "127.0.0.1:9560" or "[::1]:9560"; without a port just the address (bracketed for IPv6).
std::string formatEndpoint(std::string_view address, bool isIpv6, std::optional<uint16_t> port);

}  // namespace sipreg::config
