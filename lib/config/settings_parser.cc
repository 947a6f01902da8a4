// Settings a line inherits from `defaults:` and may override.
#include <arpa/inet.h>

#include <array>

#include "config/duration.h"
#include "config/parsers.h"
#include "config/readable_path.h"

namespace sipreg::config::detail {

namespace {

constexpr std::array<std::string_view, 2> kRetryKeys{"base", "max"};
constexpr std::array<std::string_view, 2> kNatKeys{"rewrite_contact", "max_rewrites_per_hour"};
constexpr std::array<std::string_view, 7> kTlsKeys{"ca_file",   "ca_path",  "verify", "server_name",
                                                   "cert_file", "key_file", "ciphers"};
constexpr std::array<RetiredKey, 1> kTlsRetiredKeys{{{"verify_peer", "'verify_peer' is now called 'verify'"}}};

void parseRetry(Diagnostics& diag, const Field& f, RetryPolicy& retry) {
    if (!expectMap(diag, f.value, f.keyMark, f.path, "a map with base and max")) return;
    MapView map(diag, f.value, f.keyMark, f.path, kRetryKeys);
    if (const Field* base = map.find("base")) {
        if (auto v = readDuration(diag, *base, limits::kRetryBase)) retry.base = *v;
    }
    if (const Field* max = map.find("max")) {
        if (auto v = readDuration(diag, *max, limits::kRetryMax)) retry.max = *v;
    }
}

void parseNat(Diagnostics& diag, const Field& f, NatSettings& nat) {
    if (!expectMap(diag, f.value, f.keyMark, f.path)) return;
    MapView map(diag, f.value, f.keyMark, f.path, kNatKeys);
    if (const Field* rewrite = map.find("rewrite_contact")) {
        if (auto v = readBool(diag, *rewrite)) nat.rewriteContact = *v;
    }
    if (const Field* max = map.find("max_rewrites_per_hour")) {
        if (auto v = readInt(diag, *max, limits::kMaxRewritesPerHour)) nat.maxRewritesPerHour = static_cast<int>(*v);
    }
}

void parseKeepalive(Diagnostics& diag, const Field& f, std::optional<Seconds>& keepalive) {
    if (f.value.isScalar() && (f.value.scalar() == "off" || f.value.scalar() == "false")) {
        keepalive.reset();
        return;
    }
    if (auto v = readDuration(diag, f, limits::kKeepalive)) keepalive = *v;
}

bool isHostNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// A DNS name (letters, digits, '-', dot-separated labels) or an IP literal; IPv6 is
// returned without brackets, as SipTarget::host holds it.
std::optional<std::string> parseServerName(std::string_view text) {
    std::string name(text);
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    unsigned char buf[16];
    if (::inet_pton(AF_INET6, name.c_str(), buf) == 1) return name;
    if (name.empty() || name.size() > limits::kMaxServerNameLength) return std::nullopt;
    if (name.front() == '.' || name.front() == '-' || name.find("..") != std::string::npos) return std::nullopt;
    for (char c : name) {
        if (!isHostNameChar(c)) return std::nullopt;
    }
    return name;
}

// A path key: "" drops an inherited value; anything else is resolved and must be readable now.
void parseTlsPath(Diagnostics& diag, const Field& f, PathKind kind, const std::string& configDirectory,
                  std::string& into, bool privateKey) {
    auto value = readString(diag, f, true);
    if (!value) return;
    if (value->empty()) {
        into.clear();
        return;
    }
    std::string path = resolveConfigPath(*value, configDirectory);
    auto checked = checkReadablePath(path, kind);
    if (!checked) {
        diag.error(f.mark(), f.path, checked.error().message);
        return;
    }
    if (privateKey && checked->readableByOthers) {
        diag.warning(f.mark(), f.path, "'" + path + "' holds a private key and is readable by other users; chmod o-r it");
    }
    into = std::move(path);
}

void parseTls(Diagnostics& diag, const Field& f, const std::string& configDirectory, TlsSettings& tls) {
    if (!expectMap(diag, f.value, f.keyMark, f.path)) return;
    const std::size_t errorsBefore = diag.errorCount();
    MapView map(diag, f.value, f.keyMark, f.path, kTlsKeys, kTlsRetiredKeys);
    if (const Field* v = map.find("ca_file")) parseTlsPath(diag, *v, PathKind::File, configDirectory, tls.caFile, false);
    if (const Field* v = map.find("ca_path")) {
        parseTlsPath(diag, *v, PathKind::Directory, configDirectory, tls.caPath, false);
    }
    if (const Field* v = map.find("verify")) {
        if (auto b = readBool(diag, *v)) tls.verify = *b;
    }
    if (const Field* v = map.find("server_name")) {
        if (auto text = readString(diag, *v, true)) {
            if (text->empty()) {
                tls.serverName.clear();
            } else if (auto name = parseServerName(*text)) {
                tls.serverName = std::move(*name);
            } else {
                diag.error(v->mark(), v->path,
                           "expected a host name or IP address such as sip.example.net, got '" + *text + "'");
            }
        }
    }
    const Field* cert = map.find("cert_file");
    const Field* key = map.find("key_file");
    if (cert) parseTlsPath(diag, *cert, PathKind::File, configDirectory, tls.certFile, false);
    if (key) parseTlsPath(diag, *key, PathKind::File, configDirectory, tls.keyFile, true);
    if (const Field* v = map.find("ciphers")) {
        if (auto text = readText(diag, *v, limits::kMaxCipherListLength, true)) tls.ciphers = *text;
    }

    // Checked on the merged values (a line may add the key to the defaults' certificate),
    // and only when the files themselves were fine, so one mistake gives one error.
    if (diag.errorCount() != errorsBefore || tls.certFile.empty() == tls.keyFile.empty()) return;
    const Field* at = cert ? cert : key;
    const Mark mark = at ? at->keyMark : map.mark();
    const std::string path = at ? at->path : map.path();
    if (tls.keyFile.empty()) {
        diag.error(mark, path, "cert_file is set but key_file is not (a client certificate needs its private key)");
    } else {
        diag.error(mark, path, "key_file is set but cert_file is not (a private key needs its certificate)");
    }
}

}  // namespace

const std::vector<std::string_view> kSettingsKeys{"transport", "expires",   "user_agent",       "retry",
                                                  "failed_retry", "keepalive", "keepalive_method", "nat",
                                                  "tls"};

bool parseSettings(Diagnostics& diag, const MapView& map, LineSettings& into, const std::string& configDirectory) {
    bool transportGiven = false;
    if (const Field* f = map.find("transport")) {
        transportGiven = true;
        into.transportExplicit = true;
        if (auto v = readChoice<Transport>(diag, *f, {{"udp", Transport::Udp}, {"tcp", Transport::Tcp}, {"tls", Transport::Tls}})) {
            into.transport = *v;
        }
    }
    if (const Field* f = map.find("expires")) {
        if (auto v = readDuration(diag, *f, limits::kExpires)) into.expires = *v;
    }
    if (const Field* f = map.find("user_agent")) {
        if (auto v = readText(diag, *f, limits::kMaxTextLength, true)) into.userAgent = *v;
    }
    if (const Field* f = map.find("retry")) parseRetry(diag, *f, into.retry);
    if (const Field* f = map.find("failed_retry")) {
        if (auto v = readDuration(diag, *f, limits::kFailedRetry)) into.failedRetry = *v;
    }
    if (const Field* f = map.find("keepalive")) parseKeepalive(diag, *f, into.keepalive);
    if (const Field* f = map.find("keepalive_method")) {
        if (auto v = readChoice<KeepaliveMethod>(diag, *f, {{"crlf", KeepaliveMethod::Crlf}, {"options", KeepaliveMethod::Options}})) {
            into.keepaliveMethod = *v;
        }
    }
    if (const Field* f = map.find("nat")) parseNat(diag, *f, into.nat);
    if (const Field* f = map.find("tls")) parseTls(diag, *f, configDirectory, into.tls);

    // Checked on the merged values, so a line overriding only `base` is held to the inherited max.
    const Field* retry = map.find("retry");
    if (retry && into.retry.max < into.retry.base) {
        diag.error(retry->mark(), retry->path,
                   "max (" + formatDuration(into.retry.max) + ") must not be smaller than base (" +
                       formatDuration(into.retry.base) + ")");
    }
    return transportGiven;
}

LineSettings parseDefaults(Diagnostics& diag, const MapView& root, const std::string& configDirectory) {
    LineSettings settings;
    settings.transport = Transport::Udp;
    settings.transportExplicit = false;
    settings.tls = TlsSettings{};
    settings.expires = limits::kDefaultExpires;
    settings.userAgent = std::string(limits::kDefaultUserAgent);
    settings.retry = RetryPolicy{limits::kDefaultRetryBase, limits::kDefaultRetryMax};
    settings.failedRetry = limits::kDefaultFailedRetry;
    settings.keepalive.reset();
    settings.keepaliveMethod = KeepaliveMethod::Crlf;
    settings.nat = NatSettings{true, limits::kDefaultMaxRewritesPerHour};

    const Field* f = root.find("defaults");
    if (!f) return settings;
    if (!expectMap(diag, f->value, f->keyMark, f->path)) return settings;
    MapView map(diag, f->value, f->keyMark, f->path, kSettingsKeys);
    parseSettings(diag, map, settings, configDirectory);
    return settings;
}

}  // namespace sipreg::config::detail
