#include "app/line_settings_mapping.h"

namespace sipreg::app {

txn::TransportKind toTransportKind(config::Transport t) noexcept {
    switch (t) {
        case config::Transport::Tcp: return txn::TransportKind::Tcp;
        case config::Transport::Tls: return txn::TransportKind::Tls;
        case config::Transport::Udp: break;
    }
    return txn::TransportKind::Udp;
}

Result<reg::LineSettings> toLineSettings(const config::LineConfig& line, std::string localHost,
                                         uint16_t localPort) {
    reg::LineSettings s;
    s.aor = line.aor;
    s.displayName = line.displayName;
    s.registrar = line.registrar.uri;
    s.transport = toTransportKind(line.transport);
    if (line.outboundProxy) {
        // We only loose-route: a proxy written without ;lr gets it, as RFC 3261 16.12 expects of
        // every proxy since; strict routing would rewrite the Request-URI.
        s.route = "<" + line.outboundProxy->uri + (line.outboundProxy->looseRouting ? "" : ";lr") + ">";
    }
    s.localHost = std::move(localHost);
    s.localPort = localPort;
    if (line.contact) s.contact = *line.contact;
    s.contactUser = line.contactUser;
    s.userAgent = line.userAgent;
    s.expires = line.expires;
    s.backoff.base = line.retry.base;
    s.backoff.cap = line.retry.max;
    s.failedRetry = line.failedRetry;
    s.keepalive = line.keepalive.value_or(reg::Seconds{0});
    s.keepaliveMode = line.keepaliveMethod == config::KeepaliveMethod::Options
                          ? reg::KeepAliveMode::Options
                          : reg::KeepAliveMode::Crlf;
    s.natRewritesPerHour =
        line.nat.rewriteContact ? static_cast<uint32_t>(std::max(0, line.nat.maxRewritesPerHour)) : 0;

    if (line.auth) {
        const config::AuthConfig& a = *line.auth;
        s.credentials.username = a.username.empty() ? line.aorUser : a.username;
        if (a.password) s.credentials.password = a.password->reveal();
        for (const auto& [algorithm, ha1] : a.ha1) {
            auto set = s.credentials.setHa1(config::toString(algorithm), ha1.reveal());
            if (!set) return makeError("line " + line.id + ": auth.password_ha1: " + set.error().message);
        }
        s.digest.realmPin = a.realm;
    }
    return s;
}

}  // namespace sipreg::app
