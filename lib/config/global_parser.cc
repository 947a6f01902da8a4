// Process-wide settings: sockets, pacing, shutdown, logging, INVITE answer, DNS servers
// (the operations blocks are in operations_parser.cc).
#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "config/ip_endpoint.h"
#include "config/parsers.h"

namespace sipreg::config::detail {

namespace {

constexpr std::array<std::string_view, 2> kListenKeys{"address", "port"};
constexpr std::array<std::string_view, 2> kInviteKeys{"code", "reason"};
constexpr std::array<std::string_view, 2> kDnsKeys{"servers", "timeout"};
constexpr std::array<std::string_view, 2> kRequestKeys{"answer_from", "max_rate"};

std::optional<ListenAddress> parseListenEntry(Diagnostics& diag, const YamlNode& node, const Mark& at,
                                              const std::string& path) {
    if (!expectMap(diag, node, at, path, "a map with address and port")) return std::nullopt;
    MapView map(diag, node, at, path, kListenKeys);
    ListenAddress out;
    out.address = std::string(limits::kDefaultListenAddress);
    bool ok = true;
    if (const Field* f = map.find("address")) {
        if (auto v = readString(diag, *f)) {
            std::string text = *v;
            if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
            unsigned char buf[16];
            if (::inet_pton(AF_INET, text.c_str(), buf) == 1) {
                out.isIpv6 = false;
            } else if (::inet_pton(AF_INET6, text.c_str(), buf) == 1) {
                out.isIpv6 = true;
            } else {
                diag.error(f->mark(), f->path, "expected an IPv4 or IPv6 address such as 0.0.0.0 or ::, got '" + *v + "'");
                ok = false;
            }
            out.address = text;
        } else {
            ok = false;
        }
    }
    if (const Field* f = map.find("port")) {
        if (auto v = readInt(diag, *f, limits::kListenPort)) {
            out.port = static_cast<uint16_t>(*v);
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

std::vector<ListenAddress> parseListen(Diagnostics& diag, const MapView& root) {
    const Field* f = root.find("listen");
    if (!f) return {ListenAddress{std::string(limits::kDefaultListenAddress), 0, false}};
    std::vector<ListenAddress> out;
    if (f->value.isSequence()) {
        if (f->value.size() == 0) diag.error(f->mark(), f->path, "must list at least one address");
        std::size_t index = 0;
        for (const YamlNode& entry : f->value.items()) {
            const std::string path = indexPath(f->path, index++);
            auto parsed = parseListenEntry(diag, entry, f->mark(), path);
            if (!parsed) continue;
            for (const ListenAddress& seen : out) {
                if (seen == *parsed) {
                    diag.error(entry.mark(), path, "duplicate listen address " + parsed->address + " port " +
                                                       std::to_string(parsed->port));
                }
            }
            out.push_back(std::move(*parsed));
        }
        return out;
    }
    if (auto parsed = parseListenEntry(diag, f->value, f->keyMark, f->path)) out.push_back(std::move(*parsed));
    return out;
}

std::string standardReason(int code) {
    switch (code) {
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 480: return "Temporarily Unavailable";
        case 486: return "Busy Here";
        case 488: return "Not Acceptable Here";
        case 500: return "Server Internal Error";
        case 503: return "Service Unavailable";
        case 600: return "Busy Everywhere";
        case 603: return "Decline";
        default: return "Unavailable";
    }
}

InviteResponse parseInviteResponse(Diagnostics& diag, const MapView& root) {
    InviteResponse out{limits::kDefaultInviteResponseCode, standardReason(limits::kDefaultInviteResponseCode)};
    const Field* f = root.find("invite_response");
    if (!f) return out;
    if (f->value.isScalar()) {
        if (auto code = readInt(diag, *f, limits::kInviteResponseCode)) {
            out.code = static_cast<int>(*code);
            out.reason = standardReason(out.code);
        }
        return out;
    }
    if (!expectMap(diag, f->value, f->keyMark, f->path, "a status code or a map with code and reason")) return out;
    MapView map(diag, f->value, f->keyMark, f->path, kInviteKeys);
    map.requireKey("code", "a status code between 400 and 699");
    if (const Field* code = map.find("code")) {
        if (auto v = readInt(diag, *code, limits::kInviteResponseCode)) {
            out.code = static_cast<int>(*v);
            out.reason = standardReason(out.code);
        }
    }
    if (const Field* reason = map.find("reason")) {
        if (auto v = readText(diag, *reason, limits::kMaxTextLength, false)) out.reason = *v;
    }
    return out;
}

// "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]", "[::1]:53" -> "ip:port" / "[ip6]:port".
std::optional<std::string> normaliseDnsServer(std::string_view text, std::string& why) {
    EndpointProblem problem{};
    const auto endpoint = parseIpEndpoint(text, problem);
    if (!endpoint) {
        switch (problem) {
            case EndpointProblem::UnclosedBracket: why = "has '[' without ']'"; break;
            case EndpointProblem::JunkAfterBracket: why = "expected ':port' after ']'"; break;
            case EndpointProblem::EmptyPort: why = "has an empty port"; break;
            case EndpointProblem::BadPort: why = "port must be between 1 and 65535"; break;
            case EndpointProblem::NotAnAddress:
                why = "is not an IP address (a DNS server is given by address, not by name)";
                break;
        }
        return std::nullopt;
    }
    return formatEndpoint(endpoint->address, endpoint->isIpv6, endpoint->port.value_or(limits::kDefaultDnsPort));
}

std::vector<std::string> parseDnsServers(Diagnostics& diag, const Field& f) {
    std::vector<std::string> out;
    auto add = [&](const Field& entry) {
        auto text = readString(diag, entry);
        if (!text) return;
        std::string why;
        auto server = normaliseDnsServer(*text, why);
        if (!server) {
            diag.error(entry.mark(), entry.path,
                       "'" + *text + "' " + why + "; expected an IP address with an optional port, such as "
                       "127.0.0.1, 127.0.0.1:5353, ::1 or [::1]:53");
            return;
        }
        if (std::find(out.begin(), out.end(), *server) != out.end()) {
            diag.error(entry.mark(), entry.path, "duplicate DNS server " + *server);
            return;
        }
        out.push_back(std::move(*server));
    };
    if (f.value.isSequence()) {
        if (f.value.size() == 0) {
            diag.error(f.mark(), f.path, "must list at least one server (leave dns.servers out to use the system resolver's)");
        } else if (f.value.size() > limits::kMaxDnsServers) {
            diag.error(f.mark(), f.path, "must list at most " + std::to_string(limits::kMaxDnsServers) + " servers");
            return out;
        }
        std::size_t index = 0;
        for (const YamlNode& node : f.value.items()) {
            const Field entry{f.key, node, f.keyMark, indexPath(f.path, index++)};
            add(entry);
        }
        return out;
    }
    add(f);
    return out;
}

DnsSettings parseDns(Diagnostics& diag, const MapView& root) {
    DnsSettings out;
    out.timeout = limits::kDefaultDnsTimeout;
    const Field* f = root.find("dns");
    if (!f || !expectMap(diag, f->value, f->keyMark, f->path, "a map with servers and timeout")) return out;
    MapView map(diag, f->value, f->keyMark, f->path, kDnsKeys);
    if (const Field* servers = map.find("servers")) out.servers = parseDnsServers(diag, *servers);
    if (const Field* timeout = map.find("timeout")) {
        if (auto v = readDuration(diag, *timeout, limits::kDnsTimeout)) out.timeout = *v;
    }
    return out;
}

RequestSettings parseRequests(Diagnostics& diag, const MapView& root) {
    RequestSettings out;
    out.maxRate = limits::kDefaultRequestMaxRate;
    const Field* f = root.find("requests");
    if (!f || !expectMap(diag, f->value, f->keyMark, f->path, "a map with answer_from and max_rate")) return out;
    MapView map(diag, f->value, f->keyMark, f->path, kRequestKeys);
    if (const Field* from = map.find("answer_from")) {
        if (auto v = readChoice<AnswerFrom>(diag, *from,
                                            {{"any", AnswerFrom::Any}, {"registrars", AnswerFrom::Registrars}})) {
            out.answerFrom = *v;
        }
    }
    if (const Field* rate = map.find("max_rate")) {
        if (auto v = readInt(diag, *rate, limits::kRequestMaxRate)) out.maxRate = static_cast<int>(*v);
    }
    return out;
}

}  // namespace

GlobalSettings parseGlobal(Diagnostics& diag, const MapView& root, const std::string& configDirectory) {
    GlobalSettings g;
    g.listen = parseListen(diag, root);
    g.maxRate = limits::kDefaultMaxRate;
    if (const Field* f = root.find("max_rate")) {
        if (auto v = readInt(diag, *f, limits::kMaxRate)) g.maxRate = static_cast<int>(*v);
    }
    g.startSpread = limits::kDefaultStartSpread;
    if (const Field* f = root.find("start_spread")) {
        if (auto v = readDuration(diag, *f, limits::kStartSpread)) g.startSpread = *v;
    }
    g.shutdownTimeout = limits::kDefaultShutdownTimeout;
    if (const Field* f = root.find("shutdown_timeout")) {
        if (auto v = readDuration(diag, *f, limits::kShutdownTimeout)) g.shutdownTimeout = *v;
    }
    g.logLevel = LogLevel::Info;
    if (const Field* f = root.find("log_level")) {
        if (auto v = readChoice<LogLevel>(diag, *f,
                                          {{"trace", LogLevel::Trace},
                                           {"debug", LogLevel::Debug},
                                           {"info", LogLevel::Info},
                                           {"warn", LogLevel::Warn},
                                           {"error", LogLevel::Error}})) {
            g.logLevel = *v;
        }
    }
    g.inviteResponse = parseInviteResponse(diag, root);
    g.requests = parseRequests(diag, root);
    g.dns = parseDns(diag, root);
    g.control = parseControl(diag, root, configDirectory);
    g.metrics = parseMetrics(diag, root);
    g.onChange = parseOnChange(diag, root);
    return g;
}

}  // namespace sipreg::config::detail
