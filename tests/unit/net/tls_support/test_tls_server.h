#pragma once
// The far end of a TLS test: a plain OpenSSL server driven through memory BIOs, and a pump
// that moves bytes between it and a client TlsSession until both fall silent.
#include <openssl/types.h>

#include <string>
#include <string_view>

#include "net/tls_session.h"
#include "tls_support/test_pki.h"
#include "util/result.h"

namespace sipreg::net::testing {

struct TestServerOptions {
    int maxVersion = 0;                     // e.g. TLS1_2_VERSION; 0 = OpenSSL's highest
    X509* requireClientCertFrom = nullptr;  // when set, a client certificate from this CA is required
};

class TestTlsServer {
public:
    explicit TestTlsServer(const Credential& identity, TestServerOptions options = {});
    ~TestTlsServer();
    TestTlsServer(const TestTlsServer&) = delete;
    TestTlsServer& operator=(const TestTlsServer&) = delete;

    void feed(std::string_view cipher);  // decrypted data lands in received()
    void write(std::string_view plain);
    void shutdown();
    bool hasOutput() const;
    std::string takeOutput();

    bool handshakeDone() const noexcept { return handshakeDone_; }
    bool failed() const noexcept { return !error_.empty(); }
    bool peerClosed() const noexcept { return peerClosed_; }
    const std::string& error() const noexcept { return error_; }
    const std::string& received() const noexcept { return received_; }
    std::string sniReceived() const;             // empty when the client sent none
    std::string clientCertificateSubject() const;  // empty when the client sent none
    std::string protocol() const;

private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    BIO* input_ = nullptr;
    BIO* output_ = nullptr;
    bool handshakeDone_ = false;
    bool peerClosed_ = false;
    std::string error_;
    std::string received_;
};

// Exchanges bytes until neither side has anything to send (at most 64 rounds). Returns the
// first client error; server errors are left in server.error().
Result<void> pump(TlsSession& client, TestTlsServer& server, std::string& clientPlain);

}  // namespace sipreg::net::testing
