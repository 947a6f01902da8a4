// Settings a line inherits from `defaults:` and may override.
#include <array>

#include "config/duration.h"
#include "config/parsers.h"

namespace sipreg::config::detail {

namespace {

constexpr std::array<std::string_view, 2> kRetryKeys{"base", "max"};
constexpr std::array<std::string_view, 2> kNatKeys{"rewrite_contact", "max_rewrites_per_hour"};

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

}  // namespace

const std::vector<std::string_view> kSettingsKeys{"transport", "expires",   "user_agent",       "retry",
                                                  "failed_retry", "keepalive", "keepalive_method", "nat"};

bool parseSettings(Diagnostics& diag, const MapView& map, LineSettings& into) {
    bool transportGiven = false;
    if (const Field* f = map.find("transport")) {
        transportGiven = true;
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

    // Checked on the merged values, so a line overriding only `base` is held to the inherited max.
    const Field* retry = map.find("retry");
    if (retry && into.retry.max < into.retry.base) {
        diag.error(retry->mark(), retry->path,
                   "max (" + formatDuration(into.retry.max) + ") must not be smaller than base (" +
                       formatDuration(into.retry.base) + ")");
    }
    return transportGiven;
}

LineSettings parseDefaults(Diagnostics& diag, const MapView& root) {
    LineSettings settings;
    settings.transport = Transport::Udp;
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
    parseSettings(diag, map, settings);
    return settings;
}

}  // namespace sipreg::config::detail
