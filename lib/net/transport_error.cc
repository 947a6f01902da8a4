#include "net/transport_error.h"

#include <uv.h>

namespace sipreg::net {

const char* kindName(TransportError::Kind kind) noexcept {
    switch (kind) {
        case TransportError::Kind::Send: return "send";
        case TransportError::Kind::Receive: return "receive";
        case TransportError::Kind::Truncated: return "truncated";
    }
    return "unknown";
}

std::string describeUvError(std::string_view what, int code) {
    std::string s(what);
    s += ": ";
    s += uv_strerror(code);
    s += " (";
    s += uv_err_name(code);
    s += ")";
    return s;
}

}  // namespace sipreg::net
