// TLS flows of the stream transport against a test-side OpenSSL server (memory BIOs on a
// libuv TCP server), with a throwaway CA and server certificate minted by the test.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "loop_fixture.h"
#include "net/stream_transport.h"
#include "net/tls_context.h"
#include "net/tls_session.h"
#include "stream_test_server.h"

using sipreg::Duration;
using sipreg::net::SocketAddress;
using sipreg::net::StreamSettings;
using sipreg::net::StreamTarget;
using sipreg::net::StreamTransport;
using sipreg::net::TlsClientOptions;
using sipreg::net::TlsContext;
using sipreg::net::TlsSession;
using sipreg::net::testing::LoopFixture;
using sipreg::net::testing::StreamTestServer;
using sipreg::txn::TransportKind;
using Kind = StreamTransport::FlowEvent::Kind;

namespace {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
};
struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

void addExtension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    REQUIRE(ext != nullptr);
    REQUIRE(X509_add_ext(cert, ext, -1) == 1);
    X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed CA.
CertPtr makeCert(EVP_PKEY* key, const char* commonName, X509* issuer, EVP_PKEY* issuerKey, const char* san,
                 long serial) {
    CertPtr cert(X509_new());
    REQUIRE(cert);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    REQUIRE(X509_set_pubkey(cert.get(), key) == 1);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(commonName), -1, -1,
                               0);
    X509* signer = issuer == nullptr ? cert.get() : issuer;
    REQUIRE(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1);
    addExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
    if (issuer == nullptr) {
        addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        addExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        addExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
        addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        addExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
        addExtension(cert.get(), signer, NID_subject_alt_name, san);
    }
    REQUIRE(X509_sign(cert.get(), issuer == nullptr ? key : issuerKey, EVP_sha256()) > 0);
    return cert;
}

// A CA trusted through a PEM file, and a server certificate from it for DNS:sip.test.
struct Pki {
    Pki() {
        char tmpl[] = "/tmp/sipreg-stream-tls-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        caFile = dir + "/ca.pem";
        caKey.reset(EVP_EC_gen("P-256"));
        serverKey.reset(EVP_EC_gen("P-256"));
        REQUIRE(caKey);
        REQUIRE(serverKey);
        caCert = makeCert(caKey.get(), "Stream Test CA", nullptr, nullptr, nullptr, 1);
        serverCert = makeCert(serverKey.get(), "sip.test", caCert.get(), caKey.get(), "DNS:sip.test", 2);
        FILE* f = std::fopen(caFile.c_str(), "w");
        REQUIRE(f != nullptr);
        REQUIRE(PEM_write_X509(f, caCert.get()) == 1);
        std::fclose(f);

        TlsClientOptions options;
        options.caFile = caFile;
        auto created = TlsContext::createClient(options);
        REQUIRE_MESSAGE(created.ok(), (created.ok() ? std::string() : created.error().message));
        client = *created;

        server.reset(SSL_CTX_new(TLS_server_method()));
        REQUIRE(server);
        REQUIRE(SSL_CTX_use_certificate(server.get(), serverCert.get()) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey(server.get(), serverKey.get()) == 1);
    }
    ~Pki() {
        std::remove(caFile.c_str());
        rmdir(dir.c_str());
    }

    std::string dir, caFile;
    KeyPtr caKey, serverKey;
    CertPtr caCert, serverCert;
    std::shared_ptr<TlsContext> client;
    CtxPtr server;
};

// The server side of one TLS connection, driven through memory BIOs.
struct ServerTls {
    explicit ServerTls(SSL_CTX* ctx) : ssl(SSL_new(ctx)) {
        REQUIRE(ssl != nullptr);
        in = BIO_new(BIO_s_mem());
        out = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, in, out);
        SSL_set_accept_state(ssl);
    }
    ~ServerTls() { SSL_free(ssl); }
    ServerTls(const ServerTls&) = delete;
    ServerTls& operator=(const ServerTls&) = delete;

    // Feeds ciphertext; returns ciphertext to send back. Decrypted data goes to `plain`.
    std::string feed(std::string_view cipher) {
        BIO_write(in, cipher.data(), static_cast<int>(cipher.size()));
        if (!SSL_is_init_finished(ssl)) {
            if (SSL_do_handshake(ssl) <= 0 && SSL_get_error(ssl, -1) == SSL_ERROR_SSL) failed = true;
        }
        if (SSL_is_init_finished(ssl)) {
            char buf[4096];
            int n = 0;
            while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) plain.append(buf, static_cast<std::size_t>(n));
        }
        return drain();
    }
    std::string write(std::string_view text) {
        REQUIRE(SSL_write(ssl, text.data(), static_cast<int>(text.size())) == static_cast<int>(text.size()));
        return drain();
    }
    std::string closeNotify() {
        SSL_shutdown(ssl);
        return drain();
    }
    std::string drain() {
        std::string bytes;
        char buf[4096];
        int n = 0;
        while ((n = BIO_read(out, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<std::size_t>(n));
        return bytes;
    }

    SSL* ssl;
    BIO* in;
    BIO* out;
    std::string plain;
    bool failed = false;
};

ServerTls& tlsOf(StreamTestServer::Peer& peer) { return *static_cast<ServerTls*>(peer.state.get()); }

// Puts a TLS server on the test server: every accepted peer gets its own session.
void serveTls(StreamTestServer& server, SSL_CTX* ctx) {
    server.setDataHook([&server, ctx](StreamTestServer::Peer& peer, std::string_view bytes) {
        if (!peer.state) peer.state = std::make_shared<ServerTls>(ctx);
        peer.received.append(bytes);
        const std::string reply = tlsOf(peer).feed(bytes);
        if (!reply.empty()) server.send(peer, reply);
    });
}

// The reason a TlsSession itself gives for refusing this server under `serverName`,
// obtained in memory without any transport.
std::string sessionRefusal(const Pki& pki, const std::string& serverName) {
    TlsSession client(pki.client, serverName, true);
    ServerTls server(pki.server.get());
    REQUIRE(client.start().ok());
    for (int round = 0; round < 10; ++round) {
        const std::string reply = server.feed(client.takeOutput());
        std::string plain;
        auto fed = client.feed(reply, plain);
        if (!fed) return fed.error().message;
    }
    FAIL("the TLS session accepted the server as " << serverName);
    return {};
}

std::string sipMessage(const std::string& callId, const std::string& body = "") {
    return "SIP/2.0 200 OK\r\nCall-ID: " + callId + "\r\nCSeq: 1 REGISTER\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Client {
    Client(uv_loop_t* loop, StreamSettings settings)
        : transport(
              loop, settings,
              [this](uint64_t, std::string_view message, const SocketAddress&) { messages.emplace_back(message); },
              [this](const StreamTransport::FlowEvent& e) { events.push_back(e); }) {}

    const StreamTransport::FlowEvent* find(Kind kind, uint64_t flow) const {
        for (const auto& e : events) {
            if (e.kind == kind && e.flow == flow) return &e;
        }
        return nullptr;
    }

    StreamTransport transport;
    std::vector<std::string> messages;
    std::vector<StreamTransport::FlowEvent> events;
};

StreamSettings settings() {
    StreamSettings s;
    s.connectTimeout = Duration{3000};
    s.keepaliveIdle = Duration{0};
    s.reconnectBackoffMin = Duration{200};
    s.reconnectBackoffMax = Duration{400};
    s.unusedLinger = Duration{50};
    return s;
}

StreamTarget tlsTo(const SocketAddress& remote, const Pki& pki, std::string serverName, bool verify = true) {
    StreamTarget t;
    t.remote = remote;
    t.kind = TransportKind::Tls;
    t.tls = pki.client;
    t.serverName = std::move(serverName);
    t.verify = verify;
    return t;
}

void exchangeOverTls(const SocketAddress& loopback) {
    Pki pki;
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, loopback);
        serveTls(server, pki.server.get());
        Client client(&fx.loop, settings());
        auto flow = client.transport.open(tlsTo(server.address(), pki, "sip.test"));
        REQUIRE(flow.ok());
        // Written before the handshake: held back, then sent encrypted once it is done.
        const std::string request = "REGISTER sip:sip.test SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        REQUIRE(client.transport.send(*flow, request).ok());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Connected, *flow) != nullptr; }, "TLS connected"));
        REQUIRE(server.accepted() == 1);
        auto& peer = server.peer(0);
        // TLS 1.3: the client is done first; the server still waits for its Finished.
        REQUIRE(fx.runUntil([&] { return SSL_is_init_finished(tlsOf(peer).ssl) == 1; }, "server handshake"));
        CHECK(client.find(Kind::Connected, *flow)->local == peer.remote);
        REQUIRE(fx.runUntil([&] { return tlsOf(peer).plain == request; }, "request decrypted at the server"));
        CHECK(peer.received.find("REGISTER") == std::string::npos);  // never in clear on the wire

        // Two responses, the second split over two TLS records.
        const std::string a = sipMessage("a", "body");
        const std::string b = sipMessage("b");
        server.send(peer, tlsOf(peer).write(a + b.substr(0, 10)));
        server.send(peer, tlsOf(peer).write(b.substr(10)));
        REQUIRE(fx.runUntil([&] { return client.messages.size() == 2; }, "responses"));
        CHECK(client.messages[0] == a);
        CHECK(client.messages[1] == b);

        // Keep-alive over TLS: a ping from the server is answered inside the TLS stream.
        server.send(peer, tlsOf(peer).write("\r\n\r\n"));
        REQUIRE(fx.runUntil([&] { return tlsOf(peer).plain == request + "\r\n"; }, "pong"));

        const auto& c = client.transport.counters();
        CHECK(c.connects == 1);
        CHECK(c.tlsFailures == 0);
        CHECK(c.bytesIn > a.size() + b.size());  // handshake and record overhead counted
        CHECK(c.bytesOut == peer.received.size());
        client.transport.release(*flow);
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Closed, *flow) != nullptr; }, "linger close"));
        // The orderly close carries close_notify.
        REQUIRE(fx.runUntil([&] { return peer.eof; }, "server sees the close"));
        CHECK((SSL_get_shutdown(tlsOf(peer).ssl) & SSL_RECEIVED_SHUTDOWN) != 0);
    }
    fx.finish();
}

}  // namespace

TEST_CASE("a TLS flow carries SIP both ways over IPv4") { exchangeOverTls(SocketAddress::loopbackV4()); }

TEST_CASE("a TLS flow carries SIP both ways over IPv6") { exchangeOverTls(SocketAddress::loopbackV6()); }

TEST_CASE("a certificate for another name closes the flow with the TLS session's reason and backs off") {
    Pki pki;
    const std::string expected = sessionRefusal(pki, "other.test");
    REQUIRE_FALSE(expected.empty());
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        serveTls(server, pki.server.get());
        Client client(&fx.loop, settings());
        auto flow = client.transport.open(tlsTo(server.address(), pki, "other.test"));
        REQUIRE(flow.ok());
        REQUIRE(client.transport.send(*flow, sipMessage("secret")).ok());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Closed, *flow) != nullptr; }, "refused"));
        const auto* closed = client.find(Kind::Closed, *flow);
        CHECK_FALSE(closed->wasConnected);
        CHECK(client.find(Kind::Connected, *flow) == nullptr);
        CHECK_MESSAGE(closed->reason.find(expected) != std::string::npos, closed->reason);
        CHECK(closed->reason.find(server.address().toString()) != std::string::npos);
        CHECK(client.transport.counters().tlsFailures == 1);
        CHECK(client.transport.counters().connectFailures == 1);

        auto again = client.transport.open(tlsTo(server.address(), pki, "other.test"));
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().message.find(expected) != std::string::npos);
        CHECK(again.error().message.find("next try in") != std::string::npos);

        // The right name is another target: not blocked, and it connects.
        auto good = client.transport.open(tlsTo(server.address(), pki, "sip.test"));
        REQUIRE(good.ok());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Connected, *good) != nullptr; }, "good name"));
        // The refused flow's request never reached the server.
        REQUIRE(server.accepted() == 2);
        CHECK(tlsOf(server.peer(0)).plain.empty());
        client.transport.closeAll();
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Closed, *good) != nullptr; }, "closed"));
    }
    fx.finish();
}

TEST_CASE("verify=false accepts a certificate for another name") {
    Pki pki;
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());
        serveTls(server, pki.server.get());
        Client client(&fx.loop, settings());
        auto flow = client.transport.open(tlsTo(server.address(), pki, "other.test", false));
        REQUIRE(flow.ok());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Connected, *flow) != nullptr; }, "connected"));
        CHECK(client.transport.counters().tlsFailures == 0);
        // Differently verified flows to one address are separate flows.
        auto verified = client.transport.open(tlsTo(server.address(), pki, "other.test", true));
        REQUIRE(verified.ok());
        CHECK(*verified != *flow);
        client.transport.closeAll();
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Closed, *verified) != nullptr; }, "closed"));
    }
    fx.finish();
}

TEST_CASE("a TLS handshake that never completes is bounded by the connect timeout") {
    Pki pki;
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV4());  // accepts, never answers
        StreamSettings s = settings();
        s.connectTimeout = Duration{150};
        Client client(&fx.loop, s);
        auto flow = client.transport.open(tlsTo(server.address(), pki, "sip.test"));
        REQUIRE(flow.ok());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Closed, *flow) != nullptr; }, "timeout"));
        CHECK(client.find(Kind::Closed, *flow)->reason ==
              "TLS handshake with " + server.address().toString() + " timed out after 150 ms");
        CHECK_FALSE(client.find(Kind::Closed, *flow)->wasConnected);
        REQUIRE(server.accepted() == 1);
        CHECK_FALSE(server.peer(0).received.empty());  // the ClientHello was sent
    }
    fx.finish();
}

TEST_CASE("close_notify from the peer closes the TLS flow") {
    Pki pki;
    LoopFixture fx;
    {
        StreamTestServer server(&fx.loop, SocketAddress::loopbackV6());
        serveTls(server, pki.server.get());
        Client client(&fx.loop, settings());
        auto flow = client.transport.open(tlsTo(server.address(), pki, "sip.test"));
        REQUIRE(flow.ok());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Connected, *flow) != nullptr; }, "connected"));
        REQUIRE(fx.runUntil([&] { return SSL_is_init_finished(tlsOf(server.peer(0)).ssl) == 1; }, "server handshake"));
        server.send(server.peer(0), tlsOf(server.peer(0)).closeNotify());
        REQUIRE(fx.runUntil([&] { return client.find(Kind::Closed, *flow) != nullptr; }, "closed"));
        CHECK(client.find(Kind::Closed, *flow)->wasConnected);
        CHECK(client.find(Kind::Closed, *flow)->reason.find("close_notify") != std::string::npos);
    }
    fx.finish();
}
