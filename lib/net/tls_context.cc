#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "net/tls_errors.h"

namespace sipreg::net {
namespace {

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};

// An encrypted key must fail to load rather than make OpenSSL prompt on the terminal.
int refusePassphrase(char*, int, int, void*) { return 0; }

// OpenSSL's messages for a missing file are vague ("system lib"); say it plainly first.
Result<void> checkReadableFile(const std::string& path, const char* key) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        const int code = errno;
        return makeError(std::string("tls ") + key + " " + path + ": cannot open: " + std::strerror(code));
    }
    std::fclose(file);
    return {};
}

Error fileError(const char* key, const std::string& path, const char* what) {
    return makeError(std::string("tls ") + key + " " + path + ": " + what + ": " + drainOpenSslErrors());
}

Result<void> loadTrust(SSL_CTX* ctx, const TlsClientOptions& options) {
    if (options.caFile.empty() && options.caPath.empty()) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            return makeError("tls: cannot load the system CA store: " + drainOpenSslErrors());
        }
        return {};
    }
    if (!options.caFile.empty()) {
        if (auto readable = checkReadableFile(options.caFile, "ca_file"); !readable) return readable;
        if (SSL_CTX_load_verify_file(ctx, options.caFile.c_str()) != 1) {
            return fileError("ca_file", options.caFile, "no usable CA certificate");
        }
    }
    if (!options.caPath.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_directory(options.caPath, ec)) {
            return makeError("tls ca_path " + options.caPath + ": not a directory" +
                             (ec ? ": " + ec.message() : std::string()));
        }
        if (SSL_CTX_load_verify_dir(ctx, options.caPath.c_str()) != 1) {
            return fileError("ca_path", options.caPath, "cannot use as CA directory");
        }
    }
    return {};
}

Result<void> loadClientCertificate(SSL_CTX* ctx, const TlsClientOptions& options) {
    if (options.certFile.empty() && options.keyFile.empty()) return {};
    if (options.keyFile.empty()) return makeError("tls cert_file " + options.certFile + " given without key_file");
    if (options.certFile.empty()) return makeError("tls key_file " + options.keyFile + " given without cert_file");
    if (auto readable = checkReadableFile(options.certFile, "cert_file"); !readable) return readable;
    if (auto readable = checkReadableFile(options.keyFile, "key_file"); !readable) return readable;
    if (SSL_CTX_use_certificate_chain_file(ctx, options.certFile.c_str()) != 1) {
        return fileError("cert_file", options.certFile, "cannot load certificate");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
        const unsigned long last = ERR_peek_last_error();
        if (ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH) {
            return makeError("tls key_file " + options.keyFile + " does not match cert_file " + options.certFile +
                             ": " + drainOpenSslErrors());
        }
        return fileError("key_file", options.keyFile, "cannot load private key (PEM, unencrypted)");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        return makeError("tls key_file " + options.keyFile + " does not match cert_file " + options.certFile + ": " +
                         drainOpenSslErrors());
    }
    return {};
}

}  // namespace

TlsContext::TlsContext(SSL_CTX* ctx, TlsClientOptions options) noexcept : ctx_(ctx), options_(std::move(options)) {}

TlsContext::~TlsContext() {
    OpenSslErrorScope scope;
    SSL_CTX_free(ctx_);
}

Result<std::shared_ptr<TlsContext>> TlsContext::createClient(const TlsClientOptions& options) {
    OpenSslErrorScope scope;
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return makeError("tls: cannot create context: " + drainOpenSslErrors());

    if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
        return makeError("tls: cannot require TLS 1.2: " + drainOpenSslErrors());
    }
    // A server asking to renegotiate a TLS 1.2 session gets a refusal, not a second
    // handshake in the middle of SIP traffic.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_default_passwd_cb(ctx.get(), refusePassphrase);

    if (auto trust = loadTrust(ctx.get(), options); !trust) return trust.error();
    if (auto own = loadClientCertificate(ctx.get(), options); !own) return own.error();
    if (!options.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), options.ciphers.c_str()) != 1) {
        return makeError("tls ciphers '" + options.ciphers + "': " + drainOpenSslErrors());
    }
    return std::shared_ptr<TlsContext>(new TlsContext(ctx.release(), options));
}

}  // namespace sipreg::net
