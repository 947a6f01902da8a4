#include "tls_support/test_tls_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace sipreg::net::testing {
namespace {

std::string drainErrors() {
    std::string text;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!text.empty()) text += "; ";
        text += buffer;
    }
    return text.empty() ? "unknown error" : text;
}

}  // namespace

TestTlsServer::TestTlsServer(const Credential& identity, TestServerOptions options) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (ctx_ == nullptr) throw std::runtime_error("test server: SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (options.maxVersion != 0) SSL_CTX_set_max_proto_version(ctx_, options.maxVersion);
    if (options.maxVersion != 0 && options.maxVersion < TLS1_2_VERSION) {
        // An outdated server, to prove the client refuses it.
        SSL_CTX_set_security_level(ctx_, 0);
        SSL_CTX_set_min_proto_version(ctx_, options.maxVersion);
    }
    if (SSL_CTX_use_certificate(ctx_, identity.cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx_, identity.key.get()) != 1) {
        throw std::runtime_error("test server: credential: " + drainErrors());
    }
    if (options.requireClientCertFrom != nullptr) {
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), options.requireClientCertFrom);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    input_ = BIO_new(BIO_s_mem());
    output_ = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || input_ == nullptr || output_ == nullptr) throw std::runtime_error("test server: SSL_new");
    SSL_set_bio(ssl_, input_, output_);
    SSL_set_accept_state(ssl_);
}

TestTlsServer::~TestTlsServer() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ERR_clear_error();
}

void TestTlsServer::feed(std::string_view cipher) {
    if (failed()) return;
    ERR_clear_error();
    BIO_write(input_, cipher.data(), static_cast<int>(cipher.size()));
    if (!handshakeDone_) {
        const int rc = SSL_do_handshake(ssl_);
        if (rc != 1) {
            const int err = SSL_get_error(ssl_, rc);
            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) error_ = drainErrors();
            ERR_clear_error();
            return;
        }
        handshakeDone_ = true;
    }
    char buffer[4096];
    for (int rounds = 0; rounds < 1 << 16; ++rounds) {
        const int n = SSL_read(ssl_, buffer, sizeof buffer);
        if (n > 0) {
            received_.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        const int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_ZERO_RETURN) peerClosed_ = true;
        else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) error_ = drainErrors();
        break;
    }
    ERR_clear_error();
}

void TestTlsServer::write(std::string_view plain) {
    if (SSL_write(ssl_, plain.data(), static_cast<int>(plain.size())) != static_cast<int>(plain.size())) {
        throw std::runtime_error("test server: SSL_write: " + drainErrors());
    }
}

void TestTlsServer::shutdown() { SSL_shutdown(ssl_); }

bool TestTlsServer::hasOutput() const { return BIO_ctrl_pending(output_) > 0; }

std::string TestTlsServer::takeOutput() {
    std::string out(BIO_ctrl_pending(output_), '\0');
    const int n = BIO_read(output_, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

std::string TestTlsServer::sniReceived() const {
    const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    return name != nullptr ? name : "";
}

std::string TestTlsServer::clientCertificateSubject() const {
    X509* cert = SSL_get0_peer_certificate(ssl_);
    if (cert == nullptr) return "";
    char buffer[256] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof buffer);
    return buffer;
}

std::string TestTlsServer::protocol() const { return SSL_get_version(ssl_); }

Result<void> pump(TlsSession& client, TestTlsServer& server, std::string& clientPlain) {
    for (int round = 0; round < 64; ++round) {
        bool moved = false;
        if (client.hasOutput()) {
            server.feed(client.takeOutput());
            moved = true;
        }
        if (server.hasOutput()) {
            moved = true;
            if (auto fed = client.feed(server.takeOutput(), clientPlain); !fed) {
                // Let the server see the alert that explains the refusal.
                if (client.hasOutput()) server.feed(client.takeOutput());
                return fed;
            }
        }
        if (!moved) return {};
    }
    return makeError("pump: the two sides never fell silent");
}

}  // namespace sipreg::net::testing
