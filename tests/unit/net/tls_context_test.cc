// Loading TLS client settings: every failure names the file (or setting) and the reason.
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "net/tls_context.h"
#include "tls_support/test_pki.h"

using namespace sipreg::net;
using namespace sipreg::net::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("default options use the system store and require TLS 1.2") {
    auto context = TlsContext::createClient({});
    REQUIRE(context.ok());
    SSL_CTX* ctx = (*context)->native();
    REQUIRE(ctx != nullptr);
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
    CHECK((*context)->options().verify);
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("a ca_file that does not exist is named in the error") {
    TempDir dir;
    const std::string path = (dir.path() / "missing-ca.pem").string();
    TlsClientOptions options;
    options.caFile = path;
    auto context = TlsContext::createClient(options);
    REQUIRE_FALSE(context.ok());
    CHECK(contains(context.error().message, "ca_file " + path));
    CHECK(contains(context.error().message, "No such file or directory"));
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("a ca_file without certificates is named in the error with OpenSSL's reason") {
    TempDir dir;
    TlsClientOptions options;
    options.caFile = dir.write("garbage.pem", "this is not a certificate\n");
    auto context = TlsContext::createClient(options);
    REQUIRE_FALSE(context.ok());
    CHECK(contains(context.error().message, "ca_file " + options.caFile + ": no usable CA certificate: "));
    CHECK(contains(context.error().message, "no certificate or crl found"));
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("a valid ca_file and ca_path load") {
    TempDir dir;
    TestCa ca("Context Test CA");
    TlsClientOptions options;
    options.caFile = dir.write("ca.pem", ca.root().certPem());
    options.caPath = dir.path().string();
    CHECK(TlsContext::createClient(options).ok());
}

TEST_CASE("a ca_path that is not a directory is named in the error") {
    TempDir dir;
    TlsClientOptions options;
    options.caPath = dir.write("file.pem", "x");
    auto context = TlsContext::createClient(options);
    REQUIRE_FALSE(context.ok());
    CHECK(contains(context.error().message, "ca_path " + options.caPath + ": not a directory"));
}

TEST_CASE("client certificate and key load, and must come together and match") {
    TempDir dir;
    TestCa ca("Client Test CA");
    const Credential alice = ca.issue({"alice", {}});
    const Credential bob = ca.issue({"bob", {}});
    const std::string certFile = dir.write("alice.crt", alice.certPem());
    const std::string keyFile = dir.write("alice.key", alice.keyPem());
    const std::string otherKey = dir.write("bob.key", bob.keyPem());

    SUBCASE("matching pair") {
        TlsClientOptions options;
        options.certFile = certFile;
        options.keyFile = keyFile;
        CHECK(TlsContext::createClient(options).ok());
    }
    SUBCASE("certificate without key") {
        TlsClientOptions options;
        options.certFile = certFile;
        auto context = TlsContext::createClient(options);
        REQUIRE_FALSE(context.ok());
        CHECK(context.error().message == "tls cert_file " + certFile + " given without key_file");
    }
    SUBCASE("key without certificate") {
        TlsClientOptions options;
        options.keyFile = keyFile;
        auto context = TlsContext::createClient(options);
        REQUIRE_FALSE(context.ok());
        CHECK(context.error().message == "tls key_file " + keyFile + " given without cert_file");
    }
    SUBCASE("key of another certificate") {
        TlsClientOptions options;
        options.certFile = certFile;
        options.keyFile = otherKey;
        auto context = TlsContext::createClient(options);
        REQUIRE_FALSE(context.ok());
        CHECK(contains(context.error().message, "tls key_file " + otherKey + " does not match cert_file " + certFile));
    }
    SUBCASE("key file that is not a key") {
        TlsClientOptions options;
        options.certFile = certFile;
        options.keyFile = certFile;
        auto context = TlsContext::createClient(options);
        REQUIRE_FALSE(context.ok());
        CHECK(contains(context.error().message, "tls key_file " + certFile + ": cannot load private key"));
    }
    SUBCASE("missing certificate file") {
        TlsClientOptions options;
        options.certFile = (dir.path() / "nope.crt").string();
        options.keyFile = keyFile;
        auto context = TlsContext::createClient(options);
        REQUIRE_FALSE(context.ok());
        CHECK(contains(context.error().message, "tls cert_file " + options.certFile + ": cannot open"));
    }
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("an encrypted key fails instead of asking for a passphrase") {
    TempDir dir;
    TestCa ca("Passphrase Test CA");
    const Credential alice = ca.issue({"alice", {}});
    BIO* bio = BIO_new(BIO_s_mem());
    REQUIRE(PEM_write_bio_PrivateKey(bio, alice.key.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr,
                                     const_cast<char*>("secret")) == 1);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    TlsClientOptions options;
    options.certFile = dir.write("alice.crt", alice.certPem());
    options.keyFile = dir.write("alice.key", std::string(data, static_cast<std::size_t>(length)));
    BIO_free(bio);
    auto context = TlsContext::createClient(options);
    REQUIRE_FALSE(context.ok());
    CHECK(contains(context.error().message, "tls key_file " + options.keyFile + ": cannot load private key"));
}

TEST_CASE("a cipher list OpenSSL cannot use is named in the error") {
    TlsClientOptions options;
    options.ciphers = "NO-SUCH-CIPHER";
    auto context = TlsContext::createClient(options);
    REQUIRE_FALSE(context.ok());
    CHECK(contains(context.error().message, "tls ciphers 'NO-SUCH-CIPHER': no cipher match"));

    options.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    CHECK(TlsContext::createClient(options).ok());
}
