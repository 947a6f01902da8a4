#pragma once
// One client connection's TLS state, driven entirely through memory buffers: the owner
// feeds it the bytes read from the socket and sends whatever takeOutput() returns. No
// sockets, no blocking, no threads; usable from a libuv callback.
//
// Identity (RFC 5922 7.1), checked during the handshake so that a wrong peer never sees
// application data or our client certificate:
//   - DNS server name: a subjectAltName dNSName equal to it (case-insensitive, no
//     wildcards) or a URI subjectAltName "sip:<name>"; the subject CN is consulted only
//     when the certificate has neither kind of subjectAltName. SNI carries the name.
//   - IP literal server name ("192.0.2.1", "::1", "[::1]"): an iPAddress subjectAltName
//     equal to it; no SNI.
// A failed check is a fatal error whose message says why; there is no unverified fallback.
#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "net/tls_context.h"
#include "util/result.h"

namespace sipreg::net {

class TlsSession {
public:
    // verify=false (or a context made with verify=false) skips chain and identity checks.
    TlsSession(std::shared_ptr<TlsContext> context, std::string serverName, bool verify);
    ~TlsSession();
    // A moved-from session may only be destroyed or assigned to.
    TlsSession(TlsSession&&) noexcept;
    TlsSession& operator=(TlsSession&&) noexcept;
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Puts the ClientHello into the output. Call once, before feed().
    Result<void> start();

    // Consumes ciphertext from the peer; decrypted application data is appended to
    // plainOut. May also produce output (handshake messages, alerts). An error is fatal
    // for the session: its message says why, e.g. "certificate verify failed: hostname
    // mismatch (expected example.com; peer certificate is for DNS:other.example)". Any
    // alert describing the failure is left in the output for the owner to send.
    Result<void> feed(std::string_view cipher, std::string& plainOut);

    // Encrypts application data into the output; before the handshake has finished it is
    // kept and sent, in order, as soon as it does.
    Result<void> write(std::string_view plain);

    bool hasOutput() const;
    std::string takeOutput();  // ciphertext to put on the socket (empty if none)

    bool handshakeDone() const noexcept;
    bool failed() const noexcept;      // a fatal error happened; every later call fails
    bool peerClosed() const noexcept;  // the peer sent close_notify
    std::string protocol() const;      // "TLSv1.3"; empty before the handshake
    std::string cipherName() const;    // "TLS_AES_256_GCM_SHA384"; empty before the handshake
    const std::string& serverName() const noexcept;

    // Queues close_notify into the output (once; only after a finished handshake). Later
    // writes fail.
    void shutdown();

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sipreg::net
