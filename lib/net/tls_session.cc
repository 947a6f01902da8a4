#include "net/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <climits>

#include "net/tls_errors.h"
#include "net/tls_identity.h"

namespace sipreg::net {
namespace {

// Plaintext goes to SSL_write in pieces of at most this size; SSL_write takes an int.
constexpr std::size_t kWriteChunk = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;

std::string nameText(const X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return "?";
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string text(data != nullptr && length > 0 ? std::string(data, static_cast<std::size_t>(length)) : "");
    BIO_free(bio);
    return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

// "subject O=Example,CN=sip.example.com, issuer CN=Some CA" for a refused certificate.
std::string describeCertificate(X509* cert) {
    if (cert == nullptr) return "no certificate";
    return "subject " + nameText(X509_get_subject_name(cert)) + ", issuer " + nameText(X509_get_issuer_name(cert));
}

}  // namespace

struct TlsSession::State {
    std::shared_ptr<TlsContext> context;
    std::string serverName;
    TlsPeerName peer;
    bool verify = true;

    SSL* ssl = nullptr;
    BIO* input = nullptr;   // peer -> us; owned by ssl
    BIO* output = nullptr;  // us -> peer; owned by ssl

    std::string setupError;
    bool started = false;
    bool handshakeDone = false;
    bool closed = false;  // shutdown() was called
    bool peerClosed = false;
    bool failed = false;
    Error failure;
    std::string pendingPlain;

    // Filled by the verify callback: why the peer was refused.
    int chainErrorDepth = -1;
    std::string chainErrorCertificate;
    std::string identityDetail;

    ~State() {
        OpenSslErrorScope scope;
        SSL_free(ssl);
    }

    Error fail(std::string message) {
        failed = true;
        failure = makeError(std::move(message));
        pendingPlain.clear();
        return failure;
    }

    Error handshakeFailure() {
        const long result = SSL_get_verify_result(ssl);
        if (verify && result != X509_V_OK) {
            std::string message = std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
            if ((result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) &&
                !identityDetail.empty()) {
                message += " (" + identityDetail + ")";
            } else if (chainErrorDepth >= 0) {
                message += " (depth " + std::to_string(chainErrorDepth) + ": " + chainErrorCertificate + ")";
            }
            ERR_clear_error();
            return fail(std::move(message));
        }
        return fail("TLS handshake with " + serverName + " failed: " + drainOpenSslErrors());
    }

    Result<void> writeNow(std::string_view plain) {
        while (!plain.empty()) {
            const std::size_t size = std::min(plain.size(), kWriteChunk);
            const int written = SSL_write(ssl, plain.data(), static_cast<int>(size));
            if (written <= 0) {
                return fail("TLS write to " + serverName + " failed: " + drainOpenSslErrors());
            }
            plain.remove_prefix(static_cast<std::size_t>(written));
        }
        return {};
    }

    Result<void> advanceHandshake() {
        const int rc = SSL_do_handshake(ssl);
        if (rc == 1) {
            handshakeDone = true;
            std::string queued = std::move(pendingPlain);
            pendingPlain.clear();
            return writeNow(queued);
        }
        switch (SSL_get_error(ssl, rc)) {
            case SSL_ERROR_WANT_READ:
            case SSL_ERROR_WANT_WRITE:
                return {};
            default:
                return handshakeFailure();
        }
    }

    Result<void> readPlain(std::string& plainOut) {
        char buffer[kReadChunk];
        // Ends when the input BIO runs dry (WANT_READ), which it must: every round either
        // consumes input or stops.
        for (;;) {
            const int n = SSL_read(ssl, buffer, sizeof buffer);
            if (n > 0) {
                plainOut.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            switch (SSL_get_error(ssl, n)) {
                case SSL_ERROR_WANT_READ:
                case SSL_ERROR_WANT_WRITE:
                    return {};
                case SSL_ERROR_ZERO_RETURN:
                    peerClosed = true;
                    return {};
                default:
                    return fail("TLS read from " + serverName + " failed: " + drainOpenSslErrors());
            }
        }
    }

    static int stateIndex() {
        static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return index;
    }

    // Runs for every certificate of the chain; the leaf (depth 0) comes last and, once the
    // chain itself is fine, gets the RFC 5922 identity check.
    static int verifyCallback(int preverifyOk, X509_STORE_CTX* store) {
        auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        auto* self = ssl ? static_cast<State*>(SSL_get_ex_data(ssl, stateIndex())) : nullptr;
        if (self == nullptr) return 0;
        const int depth = X509_STORE_CTX_get_error_depth(store);
        if (preverifyOk != 1) {
            if (self->chainErrorDepth < 0) {
                self->chainErrorDepth = depth;
                self->chainErrorCertificate = describeCertificate(X509_STORE_CTX_get_current_cert(store));
            }
            return 0;
        }
        if (depth != 0) return 1;
        auto identity = checkServerIdentity(X509_STORE_CTX_get_current_cert(store), self->peer);
        if (identity) return 1;
        self->identityDetail = identity.error().message;
        X509_STORE_CTX_set_error(store, self->peer.ipLiteral ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                                             : X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
    }

    void setUp() {
        if (!context || context->native() == nullptr) {
            setupError = "TLS session for " + serverName + " has no context";
            return;
        }
        if (verify && peer.name.empty()) {
            setupError = "TLS session has no server name to verify the certificate against";
            return;
        }
        ssl = SSL_new(context->native());
        input = BIO_new(BIO_s_mem());
        output = BIO_new(BIO_s_mem());
        if (ssl == nullptr || input == nullptr || output == nullptr) {
            BIO_free(input);
            BIO_free(output);
            input = output = nullptr;
            setupError = "cannot create TLS session for " + serverName + ": " + drainOpenSslErrors();
            return;
        }
        SSL_set_bio(ssl, input, output);  // ssl owns both from here
        SSL_set_connect_state(ssl);
        if (SSL_set_ex_data(ssl, stateIndex(), this) != 1) {
            setupError = "cannot create TLS session for " + serverName + ": " + drainOpenSslErrors();
            return;
        }
        if (sniAllowed(peer) && SSL_set_tlsext_host_name(ssl, peer.name.c_str()) != 1) {
            setupError = "cannot set TLS server name " + serverName + ": " + drainOpenSslErrors();
            return;
        }
        SSL_set_verify(ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, verify ? verifyCallback : nullptr);
    }
};

TlsSession::TlsSession(std::shared_ptr<TlsContext> context, std::string serverName, bool verify)
    : state_(std::make_unique<State>()) {
    OpenSslErrorScope scope;
    State& s = *state_;
    s.verify = verify && context && context->options().verify;
    s.context = std::move(context);
    s.peer = parseTlsPeerName(serverName);
    s.serverName = std::move(serverName);
    s.setUp();
}

TlsSession::~TlsSession() = default;
TlsSession::TlsSession(TlsSession&&) noexcept = default;
TlsSession& TlsSession::operator=(TlsSession&&) noexcept = default;

Result<void> TlsSession::start() {
    State& s = *state_;
    if (s.failed) return s.failure;
    if (!s.setupError.empty()) return s.fail(s.setupError);
    if (s.started) return makeError("TLS session for " + s.serverName + " already started");
    s.started = true;
    OpenSslErrorScope scope;
    return s.advanceHandshake();
}

Result<void> TlsSession::feed(std::string_view cipher, std::string& plainOut) {
    State& s = *state_;
    if (s.failed) return s.failure;
    if (!s.started) return makeError("TLS session for " + s.serverName + " fed before start()");
    OpenSslErrorScope scope;
    while (!cipher.empty()) {
        const std::size_t size = std::min<std::size_t>(cipher.size(), INT_MAX / 2);
        const int written = BIO_write(s.input, cipher.data(), static_cast<int>(size));
        if (written <= 0) return s.fail("cannot buffer TLS input from " + s.serverName + ": " + drainOpenSslErrors());
        cipher.remove_prefix(static_cast<std::size_t>(written));
    }
    if (!s.handshakeDone) {
        if (auto step = s.advanceHandshake(); !step) return step;
        if (!s.handshakeDone) return {};
    }
    if (s.peerClosed) return {};
    return s.readPlain(plainOut);
}

Result<void> TlsSession::write(std::string_view plain) {
    State& s = *state_;
    if (s.failed) return s.failure;
    if (s.closed) return makeError("TLS session with " + s.serverName + " is shut down");
    if (s.peerClosed) return makeError("TLS session with " + s.serverName + " was closed by the peer");
    if (!s.handshakeDone) {
        s.pendingPlain.append(plain);
        return {};
    }
    OpenSslErrorScope scope;
    return s.writeNow(plain);
}

bool TlsSession::hasOutput() const { return state_->output != nullptr && BIO_ctrl_pending(state_->output) > 0; }

std::string TlsSession::takeOutput() {
    State& s = *state_;
    if (s.output == nullptr) return {};
    const std::size_t pending = BIO_ctrl_pending(s.output);
    if (pending == 0) return {};
    std::string out(pending, '\0');
    const int n = BIO_read(s.output, out.data(), static_cast<int>(std::min<std::size_t>(pending, INT_MAX)));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

bool TlsSession::handshakeDone() const noexcept { return state_->handshakeDone; }
bool TlsSession::failed() const noexcept { return state_->failed; }
bool TlsSession::peerClosed() const noexcept { return state_->peerClosed; }
const std::string& TlsSession::serverName() const noexcept { return state_->serverName; }

std::string TlsSession::protocol() const {
    if (!state_->handshakeDone) return {};
    return SSL_get_version(state_->ssl);
}

std::string TlsSession::cipherName() const {
    if (!state_->handshakeDone) return {};
    const char* name = SSL_get_cipher_name(state_->ssl);
    return name != nullptr ? name : "";
}

void TlsSession::shutdown() {
    State& s = *state_;
    if (s.closed) return;
    s.closed = true;
    s.pendingPlain.clear();
    if (!s.handshakeDone || s.failed) return;
    OpenSslErrorScope scope;
    SSL_shutdown(s.ssl);  // 0 = our close_notify queued; the peer's is not awaited
}

}  // namespace sipreg::net
