#pragma once
// Everything one RegistrationMachine needs to know about its line, as plain values. The
// engine maps the configuration onto this; the machine never reads configuration itself.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "auth/challenge_selection.h"
#include "auth/digest_credentials.h"
#include "reg/policy.h"
#include "txn/txn_types.h"

namespace sipreg::reg {

enum class KeepAliveMode : uint8_t {
    Crlf,     // a "\r\n\r\n" datagram/segment to the registrar (RFC 5626 3.5.1 style ping)
    Options,  // an OPTIONS request to the registrar; any response (even 4xx) proves the path
};

struct LineSettings {
    // Address of record, the To and From URI: "sip:alice@example.com" (sip or sips).
    std::string aor;
    std::string displayName;  // optional, written quoted in To/From
    // The registrar as a SIP URI; only scheme, host and port are used for the Request-URI
    // ("sip:example.com", "sip:10.0.0.1:5070"). Empty: the AOR's domain. Where the request is
    // actually sent (DNS, outbound proxy) is the engine's business.
    std::string registrar;
    txn::TransportKind transport = txn::TransportKind::Udp;
    // The value of a Route header naming the outbound proxy ("<sip:proxy.example.net;lr>"),
    // empty without one. The Request-URI stays the registrar's (loose routing, RFC 3261 16.12).
    std::string route;

    // Our address as the socket sees it, for Via sent-by and the generated Contact.
    // IPv6 without brackets. The engine fills in a placeholder at creation and the real
    // address of the flow (setFlowAddress) before anything is sent.
    std::string localHost;
    uint16_t localPort = 5060;

    // Contact: a full URI ("sip:alice@192.0.2.1:5060;transport=tcp") used verbatim when set;
    // NAT rewriting is then off, the operator decided. Otherwise the Contact is
    // <scheme:contactUser@host:port[;transport=tcp|tls]> with host:port = local address
    // (or the public one learned from the registrar, see natRewrite).
    std::string contact;
    std::string contactUser;  // empty: the AOR's user part

    std::string userAgent = "sipregd";
    Seconds expires{3600};    // what we ask for, every time (never the last granted value)

    auth::DigestCredentials credentials;  // username empty: the AOR's user part
    auth::DigestOptions digest;           // realm pin, auth-int preference

    BackoffSettings backoff;       // transient failures: timeout, transport error, 408, 5xx, 6xx
    Seconds failedRetry{600};      // refusals: 403, 404, rejected credentials, other 4xx

    // NAT pinhole keep-alive while registered; zero: off.
    Seconds keepalive{0};
    KeepAliveMode keepaliveMode = KeepAliveMode::Crlf;

    // Re-register with the public address the registrar sees (Via received/rport) and drop
    // the binding of the private one. At most this many rewrites per hour; 0 disables.
    uint32_t natRewritesPerHour = 4;
};

}  // namespace sipreg::reg
