#pragma once
// OpenSSL reports failures through a per-thread error queue. Every entry point that calls
// OpenSSL clears it first (SSL_get_error() is only meaningful on a clean queue) and on the
// way out, so one session's leftovers never show up in another's error message.
#include <string>

namespace sipreg::net {

class OpenSslErrorScope {
public:
    OpenSslErrorScope() noexcept;
    ~OpenSslErrorScope();
    OpenSslErrorScope(const OpenSslErrorScope&) = delete;
    OpenSslErrorScope& operator=(const OpenSslErrorScope&) = delete;
};

// Empties the queue into "reason; reason" (oldest first), or fallback when it was empty.
std::string drainOpenSslErrors(const char* fallback = "no details from OpenSSL");

}  // namespace sipreg::net
