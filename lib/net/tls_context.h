#pragma once
// Client-side TLS settings turned into one OpenSSL SSL_CTX, shared by every connection made
// with the same options. Loading fails with a message naming the file and OpenSSL's reason.
#include <openssl/types.h>

#include <memory>
#include <string>

#include "util/result.h"

namespace sipreg::net {

struct TlsClientOptions {
    // Trust anchors. When either is set only they are trusted; when both are empty the
    // system store (OpenSSL's default verify paths) is used.
    std::string caFile, caPath;
    // A session verifies the peer only when both this and the session's own flag are true.
    bool verify = true;
    // Optional client certificate (PEM chain) and its private key (PEM, not encrypted):
    // both or neither, and the key must match the certificate.
    std::string certFile, keyFile;
    // OpenSSL cipher list for TLS 1.2 ("ECDHE+AESGCM"); empty keeps OpenSSL's default.
    // TLS 1.3 suites are not affected.
    std::string ciphers;
};

class TlsContext {
public:
    // TLS 1.2 minimum, 1.3 allowed.
    static Result<std::shared_ptr<TlsContext>> createClient(const TlsClientOptions& options);

    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    SSL_CTX* native() const noexcept { return ctx_; }
    const TlsClientOptions& options() const noexcept { return options_; }

private:
    TlsContext(SSL_CTX* ctx, TlsClientOptions options) noexcept;

    SSL_CTX* ctx_;
    TlsClientOptions options_;
};

}  // namespace sipreg::net
