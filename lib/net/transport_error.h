#pragma once
// An I/O failure reported to a transport's owner: what failed, where, and the libuv code
// (kept numeric for metrics, named for logs).
#include <optional>
#include <string>

#include "net/socket_address.h"

namespace sipreg::net {

struct TransportError {
    enum class Kind { Send, Receive, Truncated };
    Kind kind = Kind::Send;
    int code = 0;                       // libuv error code (negative errno), 0 if none
    std::optional<SocketAddress> peer;  // destination of a failed send, source of a bad datagram
    std::string message;                // "send to 127.0.0.1:5060: connection refused (ECONNREFUSED)"
};

const char* kindName(TransportError::Kind kind) noexcept;

// "<what>: <uv_strerror> (<uv_err_name>)"
std::string describeUvError(std::string_view what, int code);

}  // namespace sipreg::net
