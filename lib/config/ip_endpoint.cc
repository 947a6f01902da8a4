#include "config/ip_endpoint.h"

#include <arpa/inet.h>

#include <algorithm>

namespace sipreg::config {

namespace {

std::optional<uint16_t> parsePort(std::string_view text) {
    if (text.empty()) return std::nullopt;
    unsigned port = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        if (port <= 65535) port = port * 10 + static_cast<unsigned>(c - '0');  // beyond: refused below
    }
    if (port < 1 || port > 65535) return std::nullopt;
    return static_cast<uint16_t>(port);
}

}  // namespace

std::optional<IpEndpoint> parseIpEndpoint(std::string_view text, EndpointProblem& problem) {
    std::string host;
    std::string_view portText;
    bool hasPort = false;
    bool bracketed = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            problem = EndpointProblem::UnclosedBracket;
            return std::nullopt;
        }
        host = std::string(text.substr(1, close - 1));
        bracketed = true;
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                problem = EndpointProblem::JunkAfterBracket;
                return std::nullopt;
            }
            portText = rest.substr(1);
            hasPort = true;
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const auto colon = text.find(':');
        host = std::string(text.substr(0, colon));
        portText = text.substr(colon + 1);
        hasPort = true;
    } else {
        host = std::string(text);
    }
    if (hasPort && portText.empty()) {
        problem = EndpointProblem::EmptyPort;
        return std::nullopt;
    }

    IpEndpoint out;
    unsigned char buf[16];
    char canonical[INET6_ADDRSTRLEN];
    // inet_pton stops at a NUL byte, which YAML escapes can put inside a value.
    const bool hasNul = host.find('\0') != std::string::npos;
    if (!hasNul && !bracketed && ::inet_pton(AF_INET, host.c_str(), buf) == 1) {
        out.address = ::inet_ntop(AF_INET, buf, canonical, sizeof canonical);
    } else if (!hasNul && ::inet_pton(AF_INET6, host.c_str(), buf) == 1) {
        out.address = ::inet_ntop(AF_INET6, buf, canonical, sizeof canonical);
        out.isIpv6 = true;
    } else {
        problem = EndpointProblem::NotAnAddress;
        return std::nullopt;
    }
    if (hasPort) {
        out.port = parsePort(portText);
        if (!out.port) {
            problem = EndpointProblem::BadPort;
            return std::nullopt;
        }
    }
    return out;
}

std::string formatEndpoint(std::string_view address, bool isIpv6, std::optional<uint16_t> port) {
    std::string out;
    if (isIpv6) out += '[';
    out.append(address);
    if (isIpv6) out += ']';
    if (port) {
        // Appended in two steps: g++ 12 at -O3 reports a false -Wrestrict on `":" + to_string`.
        out += ':';
        out += std::to_string(*port);
    }
    return out;
}

}  // namespace sipreg::config
