// A client TlsSession against an in-memory OpenSSL server: handshakes, RFC 5922 identity,
// refusals with their reasons, client certificates and data flow.
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/tls_session.h"
#include "tls_support/test_pki.h"
#include "tls_support/test_tls_server.h"

using namespace sipreg::net;
using namespace sipreg::net::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// One CA the client trusts, one it does not, and a temp dir holding the trusted CA file.
struct Pki {
    TestCa trusted{"Trusted Test CA"};
    TestCa untrusted{"Untrusted Test CA"};
    TempDir dir;
    std::string caFile = dir.write("ca.pem", trusted.root().certPem());

    std::shared_ptr<TlsContext> context(TlsClientOptions options = {}) const {
        options.caFile = caFile;
        auto created = TlsContext::createClient(options);
        REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
        return *created;
    }
};

const Pki& pki() {
    static const Pki instance;
    return instance;
}

struct Outcome {
    sipreg::Result<void> result;
    std::string clientPlain;
};

Outcome connect(TlsSession& client, TestTlsServer& server) {
    Outcome outcome{sipreg::Result<void>{}, {}};
    if (auto started = client.start(); !started) {
        outcome.result = started;
        return outcome;
    }
    outcome.result = pump(client, server, outcome.clientPlain);
    return outcome;
}

}  // namespace

TEST_CASE("a certificate for the server name is accepted over TLS 1.3, with SNI") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    CHECK_FALSE(client.handshakeDone());
    CHECK(client.protocol().empty());

    auto outcome = connect(client, server);
    REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
    CHECK(client.handshakeDone());
    CHECK(server.handshakeDone());
    CHECK(client.protocol() == "TLSv1.3");
    CHECK(client.cipherName().rfind("TLS_", 0) == 0);
    CHECK(server.sniReceived() == "sip.example.com");
    CHECK(server.clientCertificateSubject().empty());
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("TLS 1.2 is accepted when the server offers nothing newer, with the configured ciphers") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert, {TLS1_2_VERSION, nullptr});
    TlsClientOptions options;
    options.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    TlsSession client(pki().context(options), "sip.example.com", true);
    auto outcome = connect(client, server);
    REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
    CHECK(client.protocol() == "TLSv1.2");
    CHECK(server.protocol() == "TLSv1.2");
    CHECK(client.cipherName() == "ECDHE-ECDSA-AES128-GCM-SHA256");
    CHECK(server.sniReceived() == "sip.example.com");
}

TEST_CASE("a server limited to TLS 1.1 is refused") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert, {TLS1_1_VERSION, nullptr});
    TlsSession client(pki().context(), "sip.example.com", true);
    auto outcome = connect(client, server);
    REQUIRE_FALSE(outcome.result.ok());
    CHECK_FALSE(client.handshakeDone());
    CHECK(contains(outcome.result.error().message, "TLS handshake with sip.example.com failed: "));
}

TEST_CASE("a certificate for another name is refused with the expected name in the reason") {
    const Credential cert = pki().trusted.issue({"sip.example.com", {"DNS:other.example.net"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    REQUIRE(client.write("REGISTER must never reach the wrong peer").ok());
    auto outcome = connect(client, server);
    REQUIRE_FALSE(outcome.result.ok());
    CHECK(outcome.result.error().message ==
          "certificate verify failed: hostname mismatch (expected sip.example.com; peer certificate is for "
          "DNS:other.example.net)");
    CHECK(client.failed());
    CHECK_FALSE(client.handshakeDone());
    CHECK(server.received().empty());
    // The refusal reached the server as an alert, so it fails too.
    CHECK(server.failed());
    CHECK(contains(server.error(), "alert"));
    // The session stays failed with the same reason.
    auto again = client.write("more");
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message == outcome.result.error().message);
    std::string plain;
    CHECK_FALSE(client.feed("x", plain).ok());
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("a wildcard certificate is refused") {
    const Credential cert = pki().trusted.issue({"", {"DNS:*.example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    auto outcome = connect(client, server);
    REQUIRE_FALSE(outcome.result.ok());
    CHECK(contains(outcome.result.error().message, "hostname mismatch (expected sip.example.com"));
    CHECK(contains(outcome.result.error().message, "DNS:*.example.com"));
}

TEST_CASE("a URI subjectAltName sip:<domain> is accepted") {
    const Credential cert = pki().trusted.issue({"", {"URI:sip:example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "example.com", true);
    auto outcome = connect(client, server);
    REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
    CHECK(client.handshakeDone());
}

TEST_CASE("a certificate from an untrusted CA is refused with OpenSSL's reason") {
    const Credential cert = pki().untrusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    auto outcome = connect(client, server);
    REQUIRE_FALSE(outcome.result.ok());
    const std::string expected = std::string("certificate verify failed: ") +
                                 X509_verify_cert_error_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CHECK(contains(outcome.result.error().message, expected));
    CHECK(contains(outcome.result.error().message, "depth 0"));
    CHECK_FALSE(client.handshakeDone());
}

TEST_CASE("an expired certificate is refused") {
    Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    X509_gmtime_adj(X509_getm_notBefore(cert.cert.get()), -48 * 3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.cert.get()), -24 * 3600);
    // Re-signing with the CA key keeps the signature valid so only the dates are wrong.
    REQUIRE(X509_sign(cert.cert.get(), pki().trusted.root().key.get(), EVP_sha256()) != 0);
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    auto outcome = connect(client, server);
    REQUIRE_FALSE(outcome.result.ok());
    CHECK(contains(outcome.result.error().message,
                   std::string("certificate verify failed: ") +
                       X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED)));
}

TEST_CASE("verify=false accepts an untrusted certificate for another name") {
    const Credential cert = pki().untrusted.issue({"", {"DNS:other.example.net"}});
    SUBCASE("turned off for the session") {
        TestTlsServer server(cert);
        TlsSession client(pki().context(), "sip.example.com", false);
        auto outcome = connect(client, server);
        REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
        CHECK(client.handshakeDone());
    }
    SUBCASE("turned off in the context") {
        TestTlsServer server(cert);
        TlsClientOptions options;
        options.verify = false;
        TlsSession client(pki().context(options), "sip.example.com", true);
        auto outcome = connect(client, server);
        REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
        CHECK(client.handshakeDone());
    }
}

TEST_CASE("an IP literal server name is checked against IP subjectAltNames and sends no SNI") {
    SUBCASE("IPv4 match") {
        TestTlsServer server(pki().trusted.issue({"", {"IP:127.0.0.1"}}));
        TlsSession client(pki().context(), "127.0.0.1", true);
        auto outcome = connect(client, server);
        REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
        CHECK(server.sniReceived().empty());
    }
    SUBCASE("IPv6 match in brackets") {
        TestTlsServer server(pki().trusted.issue({"", {"IP:::1"}}));
        TlsSession client(pki().context(), "[::1]", true);
        auto outcome = connect(client, server);
        REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
        CHECK(server.sniReceived().empty());
    }
    SUBCASE("a DNS name spelling the address does not count") {
        TestTlsServer server(pki().trusted.issue({"", {"DNS:127.0.0.1"}}));
        TlsSession client(pki().context(), "127.0.0.1", true);
        auto outcome = connect(client, server);
        REQUIRE_FALSE(outcome.result.ok());
        CHECK(outcome.result.error().message ==
              "certificate verify failed: IP address mismatch (expected 127.0.0.1; peer certificate is for "
              "DNS:127.0.0.1)");
    }
}

TEST_CASE("the client certificate is presented when configured") {
    const TestCa clientCa("Client CA");
    const Credential alice = clientCa.issue({"alice.example.com", {}});
    TempDir dir;
    TlsClientOptions options;
    options.certFile = dir.write("alice.crt", alice.certPem());
    options.keyFile = dir.write("alice.key", alice.keyPem());
    const Credential serverCert = pki().trusted.issue({"", {"DNS:sip.example.com"}});

    SUBCASE("TLS 1.3") {
        TestTlsServer server(serverCert, {0, clientCa.cert()});
        TlsSession client(pki().context(options), "sip.example.com", true);
        auto outcome = connect(client, server);
        REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
        CHECK(server.handshakeDone());
        CHECK(contains(server.clientCertificateSubject(), "CN=alice.example.com"));
    }
    SUBCASE("TLS 1.2") {
        TestTlsServer server(serverCert, {TLS1_2_VERSION, clientCa.cert()});
        TlsSession client(pki().context(options), "sip.example.com", true);
        auto outcome = connect(client, server);
        REQUIRE_MESSAGE(outcome.result.ok(), (outcome.result.ok() ? "" : outcome.result.error().message));
        CHECK(contains(server.clientCertificateSubject(), "CN=alice.example.com"));
    }
    SUBCASE("without one the server's refusal is reported") {
        TestTlsServer server(serverCert, {0, clientCa.cert()});
        TlsSession client(pki().context(), "sip.example.com", true);
        auto outcome = connect(client, server);
        // TLS 1.3 clients finish first; the server's alert arrives as the next record.
        if (outcome.result.ok()) {
            REQUIRE(client.write("ping").ok());
            outcome.result = pump(client, server, outcome.clientPlain);
        }
        REQUIRE_FALSE(outcome.result.ok());
        CHECK(contains(outcome.result.error().message, "certificate required"));
        CHECK(server.failed());
    }
}

TEST_CASE("data flows both ways after the handshake, and early writes arrive after it in order") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    REQUIRE(client.write("REGISTER 1\r\n").ok());
    REQUIRE(client.write("REGISTER 2\r\n").ok());
    REQUIRE(client.start().ok());
    // Nothing but the ClientHello is on the wire yet.
    const std::string hello = client.takeOutput();
    CHECK_FALSE(hello.empty());
    CHECK_FALSE(contains(hello, "REGISTER"));
    CHECK_FALSE(client.hasOutput());
    server.feed(hello);

    std::string clientPlain;
    REQUIRE(pump(client, server, clientPlain).ok());
    CHECK(server.received() == "REGISTER 1\r\nREGISTER 2\r\n");

    REQUIRE(client.write("REGISTER 3\r\n").ok());
    const std::string encrypted = client.takeOutput();
    CHECK_FALSE(contains(encrypted, "REGISTER"));
    server.feed(encrypted);
    CHECK(server.received() == "REGISTER 1\r\nREGISTER 2\r\nREGISTER 3\r\n");

    const std::string big(100000, 'x');  // several records and write chunks
    server.write("SIP/2.0 200 OK\r\n");
    server.write(big);
    REQUIRE(pump(client, server, clientPlain).ok());
    CHECK(clientPlain == "SIP/2.0 200 OK\r\n" + big);
}

TEST_CASE("ciphertext fed one byte at a time still completes the handshake") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    REQUIRE(client.start().ok());
    std::string plain;
    for (int round = 0; round < 16 && !(client.handshakeDone() && server.handshakeDone() && !client.hasOutput()); ++round) {
        if (client.hasOutput()) server.feed(client.takeOutput());
        const std::string fromServer = server.takeOutput();
        for (char byte : fromServer) REQUIRE(client.feed(std::string_view(&byte, 1), plain).ok());
    }
    CHECK(client.handshakeDone());
    CHECK(server.handshakeDone());
    server.write("hello");
    const std::string record = server.takeOutput();
    for (char byte : record) REQUIRE(client.feed(std::string_view(&byte, 1), plain).ok());
    CHECK(plain == "hello");
}

TEST_CASE("shutdown sends close_notify; the peer's close_notify is noticed") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    SUBCASE("our shutdown") {
        TestTlsServer server(cert);
        TlsSession client(pki().context(), "sip.example.com", true);
        REQUIRE(connect(client, server).result.ok());
        client.shutdown();
        REQUIRE(client.hasOutput());
        server.feed(client.takeOutput());
        CHECK(server.peerClosed());
        CHECK_FALSE(client.write("late").ok());
    }
    SUBCASE("the peer's") {
        TestTlsServer server(cert);
        TlsSession client(pki().context(), "sip.example.com", true);
        REQUIRE(connect(client, server).result.ok());
        server.write("bye");
        server.shutdown();
        std::string plain;
        REQUIRE(client.feed(server.takeOutput(), plain).ok());
        CHECK(plain == "bye");
        CHECK(client.peerClosed());
        CHECK_FALSE(client.failed());
    }
}

TEST_CASE("stale OpenSSL errors on the thread do not break a session, and none are left behind") {
    const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
    TestTlsServer server(cert);
    TlsSession client(pki().context(), "sip.example.com", true);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);  // as if left by some other session
    REQUIRE(client.start().ok());
    CHECK(ERR_peek_error() == 0);
    std::string plain;
    for (int round = 0; round < 8 && client.hasOutput(); ++round) {
        server.feed(client.takeOutput());
        ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
        REQUIRE(client.feed(server.takeOutput(), plain).ok());
        CHECK(ERR_peek_error() == 0);
    }
    REQUIRE(client.handshakeDone());
    // SSL_read consults the queue to tell "no more data" from a failure.
    server.write("after the handshake");
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    auto fed = client.feed(server.takeOutput(), plain);
    REQUIRE_MESSAGE(fed.ok(), (fed.ok() ? "" : fed.error().message));
    CHECK(plain == "after the handshake");
    CHECK(ERR_peek_error() == 0);
}

TEST_CASE("a session needs a context, a start, and a name when verifying") {
    SUBCASE("no context") {
        TlsSession client(nullptr, "sip.example.com", true);
        auto started = client.start();
        REQUIRE_FALSE(started.ok());
        CHECK(contains(started.error().message, "no context"));
        CHECK_FALSE(client.hasOutput());
        CHECK(client.takeOutput().empty());
    }
    SUBCASE("no name to verify") {
        TlsSession client(pki().context(), "", true);
        auto started = client.start();
        REQUIRE_FALSE(started.ok());
        CHECK(contains(started.error().message, "no server name"));
    }
    SUBCASE("feed before start, start twice") {
        TlsSession client(pki().context(), "sip.example.com", true);
        std::string plain;
        CHECK_FALSE(client.feed("x", plain).ok());
        REQUIRE(client.start().ok());
        CHECK_FALSE(client.start().ok());
    }
    SUBCASE("moved sessions keep working") {
        const Credential cert = pki().trusted.issue({"", {"DNS:sip.example.com"}});
        TestTlsServer server(cert);
        TlsSession first(pki().context(), "sip.example.com", true);
        REQUIRE(first.start().ok());
        TlsSession moved(std::move(first));
        std::string plain;
        REQUIRE(pump(moved, server, plain).ok());
        CHECK(moved.handshakeDone());
    }
}
