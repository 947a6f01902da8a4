#pragma once
// An IPv4 or IPv6 address with a port, as a small value type (copyable, comparable,
// hashable) that converts to and from the sockaddr structures the socket API wants.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::net {

enum class AddressFamily { IPv4, IPv6 };

const char* familyName(AddressFamily family) noexcept;

class SocketAddress {
public:
    // 0.0.0.0:0
    SocketAddress() noexcept;

    // "127.0.0.1:5060", "[::1]:5060". Without a port ("127.0.0.1", "::1", "[::1]") the
    // default port is used; defaultPort < 0 makes the port mandatory.
    static Result<SocketAddress> parse(std::string_view text, int defaultPort = -1);
    // A literal IP ("10.0.0.1", "::1", "[::1]") and a port.
    static Result<SocketAddress> fromIp(std::string_view ip, uint16_t port);
    // From a sockaddr filled by the kernel; only AF_INET and AF_INET6 are accepted.
    static Result<SocketAddress> fromSockaddr(const sockaddr* sa);
    static SocketAddress anyV4(uint16_t port = 0) noexcept;
    static SocketAddress anyV6(uint16_t port = 0) noexcept;
    static SocketAddress loopbackV4(uint16_t port = 0) noexcept;
    static SocketAddress loopbackV6(uint16_t port = 0) noexcept;

    AddressFamily family() const noexcept { return family_; }
    uint16_t port() const noexcept;
    void setPort(uint16_t port) noexcept;
    std::string ip() const;        // "127.0.0.1", "::1"
    std::string toString() const;  // "127.0.0.1:5060", "[::1]:5060"
    bool isUnspecified() const noexcept;  // 0.0.0.0 or ::

    const sockaddr* sockaddrPtr() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t sockaddrLength() const noexcept;

    friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;
    friend bool operator!=(const SocketAddress& a, const SocketAddress& b) noexcept { return !(a == b); }
    friend bool operator<(const SocketAddress& a, const SocketAddress& b) noexcept;
    std::size_t hash() const noexcept;

private:
    AddressFamily family_ = AddressFamily::IPv4;
    sockaddr_storage storage_{};
};

// Turns a registrar host into an address without any lookup: literal IPv4/IPv6 (brackets
// optional) and "localhost" (127.0.0.1). Anything else is an error naming the host, until
// DNS resolution exists.
Result<SocketAddress> resolveLiteralHost(std::string_view host, uint16_t port);

}  // namespace sipreg::net

template <>
struct std::hash<sipreg::net::SocketAddress> {
    std::size_t operator()(const sipreg::net::SocketAddress& a) const noexcept { return a.hash(); }
};
