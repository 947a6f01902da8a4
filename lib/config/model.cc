#include "config/model.h"

#include <cstdio>
#include <sstream>

#include "config/duration.h"

namespace sipreg::config {

std::string_view toString(Transport t) noexcept {
    switch (t) {
        case Transport::Udp: return "udp";
        case Transport::Tcp: return "tcp";
        case Transport::Tls: return "tls";
    }
    return "?";
}

std::string_view toString(KeepaliveMethod m) noexcept {
    switch (m) {
        case KeepaliveMethod::Crlf: return "crlf";
        case KeepaliveMethod::Options: return "options";
    }
    return "?";
}

std::string_view toString(LogLevel l) noexcept {
    switch (l) {
        case LogLevel::Trace: return "trace";
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Warn: return "warn";
        case LogLevel::Error: return "error";
    }
    return "?";
}

std::string_view toString(AnswerFrom a) noexcept {
    switch (a) {
        case AnswerFrom::Any: return "any";
        case AnswerFrom::Registrars: return "registrars";
    }
    return "?";
}

std::string_view toString(DigestAlgorithm a) noexcept {
    switch (a) {
        case DigestAlgorithm::Md5: return "MD5";
        case DigestAlgorithm::Sha256: return "SHA-256";
        case DigestAlgorithm::Sha512_256: return "SHA-512-256";
    }
    return "?";
}

uint16_t defaultPort(Transport t) noexcept { return t == Transport::Tls ? 5061 : 5060; }

const LineConfig* Config::findLine(std::string_view id) const noexcept {
    for (const LineConfig& line : lines) {
        if (line.id == id) return &line;
    }
    return nullptr;
}

namespace {

std::string_view toString(SecretSource s) {
    switch (s) {
        case SecretSource::Literal: return "literal";
        case SecretSource::File: return "file";
        case SecretSource::Environment: return "env";
        case SecretSource::Ha1Only: return "ha1";
    }
    return "?";
}

}  // namespace

std::string describe(const LineConfig& line) {
    std::ostringstream out;
    out << "line " << line.id << (line.enabled ? "" : " (disabled)") << ": aor=" << line.aor
        << " registrar=" << line.registrar.uri << " transport=" << toString(line.transport)
        << (line.transportExplicit ? "" : "(dns)") << " expires=" << formatDuration(line.expires);
    if (line.outboundProxy) out << " proxy=" << line.outboundProxy->uri;
    if (line.contact) out << " contact=" << *line.contact;
    else if (!line.contactUser.empty()) out << " contact_user=" << line.contactUser;
    out << " retry=" << formatDuration(line.retry.base) << ".." << formatDuration(line.retry.max)
        << " failed_retry=" << formatDuration(line.failedRetry)
        << " keepalive=" << (line.keepalive ? formatDuration(*line.keepalive) : std::string("off"));
    if (line.keepalive) out << "/" << toString(line.keepaliveMethod);
    out << " nat.rewrite_contact=" << (line.nat.rewriteContact ? "true" : "false");
    if (!(line.tls == TlsSettings{})) {
        const TlsSettings& t = line.tls;
        out << " tls(verify=" << (t.verify ? "true" : "false");
        if (!t.caFile.empty()) out << " ca_file=" << t.caFile;
        if (!t.caPath.empty()) out << " ca_path=" << t.caPath;
        if (!t.serverName.empty()) out << " server_name=" << t.serverName;
        if (!t.certFile.empty()) out << " cert_file=" << t.certFile << " key_file=" << t.keyFile;
        if (!t.ciphers.empty()) out << " ciphers=" << t.ciphers;
        out << ")";
    }
    if (line.auth) {
        out << " auth(username=" << line.auth->username;
        if (line.auth->realm) out << " realm=" << *line.auth->realm;
        out << " secret=" << toString(line.auth->source);
        if (!line.auth->sourceName.empty()) out << ":" << line.auth->sourceName;
        if (line.auth->password) out << " password=" << *line.auth->password;
        for (const auto& [algorithm, value] : line.auth->ha1) out << " ha1." << toString(algorithm) << "=" << value;
        out << ")";
    }
    return out.str();
}

std::string describe(const GlobalSettings& g) {
    std::ostringstream out;
    out << "listen=";
    for (std::size_t i = 0; i < g.listen.size(); ++i) {
        if (i > 0) out << ",";
        const auto& l = g.listen[i];
        out << (l.isIpv6 ? "[" + l.address + "]" : l.address) << ":" << l.port;
    }
    out << " max_rate=" << g.maxRate << "/s start_spread=" << formatDuration(g.startSpread)
        << " shutdown_timeout=" << formatDuration(g.shutdownTimeout) << " log_level=" << toString(g.logLevel)
        << " invite_response=" << g.inviteResponse.code << " " << g.inviteResponse.reason
        << " requests.answer_from=" << toString(g.requests.answerFrom) << " requests.max_rate=" << g.requests.maxRate
        << "/s dns.servers=";
    if (g.dns.servers.empty()) out << "system";
    for (std::size_t i = 0; i < g.dns.servers.size(); ++i) out << (i > 0 ? "," : "") << g.dns.servers[i];
    out << " dns.timeout=" << formatDuration(g.dns.timeout);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(g.control.mode & 07777));
    out << " control.socket=" << g.control.socket << " control.mode=" << mode << " metrics.listen=";
    if (g.metrics.listen) {
        const ListenAddress& m = *g.metrics.listen;
        out << (m.isIpv6 ? "[" + m.address + "]" : m.address) << ":" << m.port;
    } else {
        out << "off";
    }
    out << " on_change=";
    if (g.onChange.command.empty()) out << "off";
    for (std::size_t i = 0; i < g.onChange.command.size(); ++i) {
        // Quoted when needed, so the argv boundaries stay visible.
        const std::string& arg = g.onChange.command[i];
        const bool quote = arg.empty() || arg.find_first_of(" \t\"") != std::string::npos;
        out << (i > 0 ? " " : "") << (quote ? "\"" + arg + "\"" : arg);
    }
    if (!g.onChange.command.empty()) out << " on_change.timeout=" << formatDuration(g.onChange.timeout);
    return out.str();
}

}  // namespace sipreg::config
