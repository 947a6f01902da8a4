#include "net/socket_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sipreg::net {

namespace {

const sockaddr_in& v4(const sockaddr_storage& s) { return *reinterpret_cast<const sockaddr_in*>(&s); }
const sockaddr_in6& v6(const sockaddr_storage& s) { return *reinterpret_cast<const sockaddr_in6*>(&s); }
sockaddr_in& v4(sockaddr_storage& s) { return *reinterpret_cast<sockaddr_in*>(&s); }
sockaddr_in6& v6(sockaddr_storage& s) { return *reinterpret_cast<sockaddr_in6*>(&s); }

Result<uint16_t> parsePort(std::string_view text, std::string_view whole) {
    unsigned value = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (text.empty() || ec != std::errc{} || ptr != last || value > 65535) {
        return makeError("invalid port \"" + std::string(text) + "\" in address \"" + std::string(whole) + "\"");
    }
    return static_cast<uint16_t>(value);
}

}  // namespace

const char* familyName(AddressFamily family) noexcept {
    return family == AddressFamily::IPv4 ? "IPv4" : "IPv6";
}

SocketAddress::SocketAddress() noexcept { v4(storage_).sin_family = AF_INET; }

Result<SocketAddress> SocketAddress::fromIp(std::string_view ip, uint16_t port) {
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    // inet_pton wants a NUL-terminated string; addresses are short, longer input is wrong.
    char buf[INET6_ADDRSTRLEN + 1];
    if (ip.empty() || ip.size() >= sizeof buf) {
        return makeError("not an IP address: \"" + std::string(ip) + "\"");
    }
    std::memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    SocketAddress a;
    if (inet_pton(AF_INET, buf, &v4(a.storage_).sin_addr) == 1) {
        v4(a.storage_).sin_family = AF_INET;
        v4(a.storage_).sin_port = htons(port);
        a.family_ = AddressFamily::IPv4;
        return a;
    }
    a.storage_ = sockaddr_storage{};
    if (inet_pton(AF_INET6, buf, &v6(a.storage_).sin6_addr) == 1) {
        v6(a.storage_).sin6_family = AF_INET6;
        v6(a.storage_).sin6_port = htons(port);
        a.family_ = AddressFamily::IPv6;
        return a;
    }
    return makeError("not an IP address: \"" + std::string(ip) + "\"");
}

Result<SocketAddress> SocketAddress::parse(std::string_view text, int defaultPort) {
    const std::string whole(text);
    std::string_view host;
    std::string_view port;
    bool hasPort = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return makeError("missing ']' in address \"" + whole + "\"");
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return makeError("unexpected text after ']' in address \"" + whole + "\"");
            port = rest.substr(1);
            hasPort = true;
        }
        if (host.find(':') == std::string_view::npos) {
            return makeError("brackets are only for IPv6 addresses: \"" + whole + "\"");
        }
    } else {
        const auto firstColon = text.find(':');
        const auto lastColon = text.rfind(':');
        if (firstColon != std::string_view::npos && firstColon == lastColon) {
            host = text.substr(0, firstColon);
            port = text.substr(firstColon + 1);
            hasPort = true;
        } else {
            host = text;  // IPv4 without port, or a bare IPv6 (which cannot carry a port)
        }
    }
    uint16_t portValue = 0;
    if (hasPort) {
        auto p = parsePort(port, whole);
        if (!p) return p.error();
        portValue = *p;
    } else if (defaultPort < 0) {
        return makeError("missing port in address \"" + whole + "\"");
    } else if (defaultPort > 65535) {
        return makeError("invalid default port for address \"" + whole + "\"");
    } else {
        portValue = static_cast<uint16_t>(defaultPort);
    }
    auto a = fromIp(host, portValue);
    if (!a) return makeError("invalid address \"" + whole + "\": " + a.error().message);
    return a;
}

Result<SocketAddress> SocketAddress::fromSockaddr(const sockaddr* sa) {
    if (sa == nullptr) return makeError("no address");
    SocketAddress a;
    if (sa->sa_family == AF_INET) {
        std::memcpy(&a.storage_, sa, sizeof(sockaddr_in));
        a.family_ = AddressFamily::IPv4;
        return a;
    }
    if (sa->sa_family == AF_INET6) {
        std::memcpy(&a.storage_, sa, sizeof(sockaddr_in6));
        a.family_ = AddressFamily::IPv6;
        return a;
    }
    return makeError("unsupported address family " + std::to_string(sa->sa_family));
}

SocketAddress SocketAddress::anyV4(uint16_t port) noexcept {
    SocketAddress a;
    v4(a.storage_).sin_addr.s_addr = htonl(INADDR_ANY);
    v4(a.storage_).sin_port = htons(port);
    return a;
}

SocketAddress SocketAddress::anyV6(uint16_t port) noexcept {
    SocketAddress a;
    a.storage_ = sockaddr_storage{};
    v6(a.storage_).sin6_family = AF_INET6;
    v6(a.storage_).sin6_addr = in6addr_any;
    v6(a.storage_).sin6_port = htons(port);
    a.family_ = AddressFamily::IPv6;
    return a;
}

SocketAddress SocketAddress::loopbackV4(uint16_t port) noexcept {
    SocketAddress a = anyV4(port);
    v4(a.storage_).sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

SocketAddress SocketAddress::loopbackV6(uint16_t port) noexcept {
    SocketAddress a = anyV6(port);
    v6(a.storage_).sin6_addr = in6addr_loopback;
    return a;
}

uint16_t SocketAddress::port() const noexcept {
    return ntohs(family_ == AddressFamily::IPv4 ? v4(storage_).sin_port : v6(storage_).sin6_port);
}

void SocketAddress::setPort(uint16_t port) noexcept {
    if (family_ == AddressFamily::IPv4) {
        v4(storage_).sin_port = htons(port);
    } else {
        v6(storage_).sin6_port = htons(port);
    }
}

std::string SocketAddress::ip() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family_ == AddressFamily::IPv4) {
        inet_ntop(AF_INET, &v4(storage_).sin_addr, buf, sizeof buf);
    } else {
        inet_ntop(AF_INET6, &v6(storage_).sin6_addr, buf, sizeof buf);
    }
    return buf;
}

std::string SocketAddress::toString() const {
    // Appended piece by piece: g++ 12 at -O2 reports a false -Wrestrict for "[" + string.
    const bool v6 = family_ != AddressFamily::IPv4;
    std::string out;
    if (v6) out += '[';
    out += ip();
    out += v6 ? "]:" : ":";
    out += std::to_string(port());
    return out;
}

bool SocketAddress::isUnspecified() const noexcept {
    if (family_ == AddressFamily::IPv4) return v4(storage_).sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&v6(storage_).sin6_addr);
}

socklen_t SocketAddress::sockaddrLength() const noexcept {
    return family_ == AddressFamily::IPv4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    if (a.family_ != b.family_) return false;
    if (a.family_ == AddressFamily::IPv4) {
        return v4(a.storage_).sin_port == v4(b.storage_).sin_port &&
               v4(a.storage_).sin_addr.s_addr == v4(b.storage_).sin_addr.s_addr;
    }
    return v6(a.storage_).sin6_port == v6(b.storage_).sin6_port &&
           v6(a.storage_).sin6_scope_id == v6(b.storage_).sin6_scope_id &&
           std::memcmp(&v6(a.storage_).sin6_addr, &v6(b.storage_).sin6_addr, sizeof(in6_addr)) == 0;
}

bool operator<(const SocketAddress& a, const SocketAddress& b) noexcept {
    if (a.family_ != b.family_) return a.family_ < b.family_;
    int c;
    if (a.family_ == AddressFamily::IPv4) {
        c = std::memcmp(&v4(a.storage_).sin_addr, &v4(b.storage_).sin_addr, sizeof(in_addr));
    } else {
        c = std::memcmp(&v6(a.storage_).sin6_addr, &v6(b.storage_).sin6_addr, sizeof(in6_addr));
        if (c == 0 && v6(a.storage_).sin6_scope_id != v6(b.storage_).sin6_scope_id) {
            return v6(a.storage_).sin6_scope_id < v6(b.storage_).sin6_scope_id;
        }
    }
    if (c != 0) return c < 0;
    return a.port() < b.port();
}

std::size_t SocketAddress::hash() const noexcept {
    // FNV-1a over the address bytes and the port.
    std::size_t h = 1469598103934665603ull;
    auto mix = [&h](const void* p, std::size_t n) {
        const auto* bytes = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) {
            h ^= bytes[i];
            h *= 1099511628211ull;
        }
    };
    if (family_ == AddressFamily::IPv4) {
        mix(&v4(storage_).sin_addr, sizeof(in_addr));
    } else {
        mix(&v6(storage_).sin6_addr, sizeof(in6_addr));
        mix(&v6(storage_).sin6_scope_id, sizeof(uint32_t));
    }
    const uint16_t p = port();
    mix(&p, sizeof p);
    return h;
}

Result<SocketAddress> resolveLiteralHost(std::string_view host, uint16_t port) {
    if (host.size() == 9) {
        std::string lower(host);
        for (char& ch : lower) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        if (lower == "localhost") return SocketAddress::loopbackV4(port);
    }
    auto a = SocketAddress::fromIp(host, port);
    if (a) return a;
    return makeError("cannot resolve host \"" + std::string(host) +
                     "\": only IP literals and localhost are supported (no DNS yet)");
}

}  // namespace sipreg::net
