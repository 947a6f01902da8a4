// One entry of `lines:`: identity, addresses, credentials and its settings overrides.
#include <array>

#include "config/parsers.h"
#include "config/secret_file.h"
#include "config/sip_target.h"

namespace sipreg::config::detail {

namespace {

constexpr std::array<std::string_view, 9> kLineOwnKeys{"id",      "enabled", "registrar",    "aor",           "display_name",
                                                       "auth",    "contact", "contact_user", "outbound_proxy"};
constexpr std::array<std::string_view, 6> kAuthKeys{"username",     "password",      "password_file",
                                                    "password_env", "password_ha1",  "realm"};
constexpr std::array<std::string_view, 3> kHa1Keys{"MD5", "SHA-256", "SHA-512-256"};

const std::vector<std::string_view>& lineKeys() {
    static const std::vector<std::string_view> keys = [] {
        std::vector<std::string_view> k(kLineOwnKeys.begin(), kLineOwnKeys.end());
        k.insert(k.end(), kSettingsKeys.begin(), kSettingsKeys.end());
        return k;
    }();
    return keys;
}

bool isIdChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3261 25.1 `user`: unreserved / escaped / user-unreserved.
bool isUserChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-_.!~*'()&=+$,;?/").find(c) != std::string_view::npos;
}

bool isValidUserPart(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !isHex(s[i + 1]) || !isHex(s[i + 2])) return false;
            i += 2;
        } else if (!isUserChar(s[i])) {
            return false;
        }
    }
    return true;
}

bool isEnvName(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

std::optional<std::string> parseId(Diagnostics& diag, const Field& f) {
    auto id = readString(diag, f);
    if (!id) return std::nullopt;
    if (id->size() > limits::kMaxIdLength) {
        diag.error(f.mark(), f.path, "must be at most " + std::to_string(limits::kMaxIdLength) + " characters long");
        return std::nullopt;
    }
    for (char c : *id) {
        if (!isIdChar(c)) {
            diag.error(f.mark(), f.path,
                       "'" + *id + "' may only contain letters, digits, '-', '_' and '.' (it is used in logs and "
                                   "metric labels)");
            return std::nullopt;
        }
    }
    return id;
}

std::optional<ParsedTarget> parseTargetField(Diagnostics& diag, const Field& f, bool userPartAllowed) {
    auto text = readString(diag, f);
    if (!text) return std::nullopt;
    auto parsed = parseSipTarget(*text, userPartAllowed);
    if (!parsed) {
        diag.error(f.mark(), f.path, parsed.error().message);
        return std::nullopt;
    }
    return std::move(parsed.value());
}

std::map<DigestAlgorithm, Secret> parseHa1(Diagnostics& diag, const Field& f) {
    std::map<DigestAlgorithm, Secret> out;
    if (!expectMap(diag, f.value, f.keyMark, f.path, "a map of algorithm (MD5, SHA-256, SHA-512-256) to hex HA1")) {
        return out;
    }
    MapView map(diag, f.value, f.keyMark, f.path, kHa1Keys);
    const struct { std::string_view key; DigestAlgorithm algorithm; std::size_t hexLength; } kinds[] = {
        {"MD5", DigestAlgorithm::Md5, 32},
        {"SHA-256", DigestAlgorithm::Sha256, 64},
        {"SHA-512-256", DigestAlgorithm::Sha512_256, 64},
    };
    bool any = false;
    for (const auto& kind : kinds) {
        const Field* entry = map.find(kind.key);
        if (!entry) continue;
        any = true;
        auto value = readString(diag, *entry);
        if (!value) continue;
        bool hex = value->size() == kind.hexLength;
        for (char c : *value) hex = hex && isHex(c);
        if (!hex) {
            // The value is a credential: describe it, never echo it.
            const std::string found = value->size() == kind.hexLength
                                          ? "found a character that is not a hexadecimal digit"
                                          : "got " + std::to_string(value->size()) + " characters";
            diag.error(entry->mark(), entry->path,
                       "expected " + std::to_string(kind.hexLength) + " hexadecimal digits (" + found + ")");
            continue;
        }
        for (char& c : *value) {
            if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        }
        out.emplace(kind.algorithm, Secret(std::move(*value)));
    }
    if (!any && f.value.isMap() && f.value.size() == 0) {
        diag.error(f.mark(), f.path, "must give at least one of MD5, SHA-256, SHA-512-256");
    }
    return out;
}

std::optional<AuthConfig> parseAuth(Diagnostics& diag, const Field& f, const ParsedAor* aor,
                                    const SecretContext& secrets, LineFacts& facts) {
    if (!expectMap(diag, f.value, f.keyMark, f.path)) return std::nullopt;
    MapView map(diag, f.value, f.keyMark, f.path, kAuthKeys);
    AuthConfig auth;
    bool ok = true;

    if (const Field* u = map.find("username")) {
        if (auto v = readText(diag, *u, limits::kMaxTextLength, false)) auth.username = *v; else ok = false;
    } else if (aor && !aor->userUnescaped.empty()) {
        auth.username = aor->userUnescaped;
    } else if (aor) {
        diag.error(map.mark(), map.path(), "missing required key 'username' (the aor has no user part to default to)");
        ok = false;
    }
    if (const Field* r = map.find("realm")) {
        if (auto v = readText(diag, *r, limits::kMaxTextLength, false)) auth.realm = *v; else ok = false;
    }

    const Field* sources[] = {map.find("password"), map.find("password_file"), map.find("password_env"),
                              map.find("password_ha1")};
    int count = 0;
    for (const Field* s : sources) count += s ? 1 : 0;
    if (count == 0) {
        diag.error(map.mark(), map.path(),
                   "missing a secret: give one of password, password_file, password_env or password_ha1");
        return std::nullopt;
    }
    if (count > 1) {
        const Field* second = nullptr;
        int seen = 0;
        for (const Field* s : sources) {
            if (s && ++seen == 2) second = s;
        }
        diag.error(second->keyMark, map.path(),
                   "give exactly one of password, password_file, password_env or password_ha1");
        return std::nullopt;
    }

    if (const Field* literal = sources[0]) {
        facts.literalPassword = literal->keyMark;
        auth.source = SecretSource::Literal;
        if (auto v = readString(diag, *literal)) auth.password = Secret(std::move(*v)); else ok = false;
    } else if (const Field* fileField = sources[1]) {
        auth.source = SecretSource::File;
        if (auto v = readString(diag, *fileField)) {
            auth.sourceName = resolveSecretPath(*v, secrets.configDirectory, secrets.credentialsDirectory);
            auto file = readSecretFile(auth.sourceName);
            if (!file) {
                diag.error(fileField->mark(), fileField->path, file.error().message);
                ok = false;
            } else {
                if (file->readableByOthers) {
                    diag.warning(fileField->mark(), fileField->path,
                                 "'" + auth.sourceName + "' is readable by other users; chmod o-r it");
                }
                auth.password = std::move(file->value);
            }
        } else {
            ok = false;
        }
    } else if (const Field* envField = sources[2]) {
        auth.source = SecretSource::Environment;
        if (auto v = readString(diag, *envField)) {
            auth.sourceName = *v;
            if (!isEnvName(*v)) {
                diag.error(envField->mark(), envField->path, "'" + *v + "' is not a valid environment variable name");
                ok = false;
            } else if (auto value = secrets.getEnv ? secrets.getEnv(*v) : std::nullopt; !value) {
                diag.error(envField->mark(), envField->path, "environment variable '" + *v + "' is not set");
                ok = false;
            } else if (value->empty()) {
                diag.error(envField->mark(), envField->path, "environment variable '" + *v + "' is empty");
                ok = false;
            } else {
                auth.password = Secret(std::move(*value));
            }
        } else {
            ok = false;
        }
    } else if (const Field* ha1Field = sources[3]) {
        auth.source = SecretSource::Ha1Only;
        auth.ha1 = parseHa1(diag, *ha1Field);
        if (auth.ha1.empty()) ok = false;
        if (!auth.realm) {
            // An HA1 digests one realm; answering another realm's challenge with it cannot work.
            diag.error(map.mark(), map.path(), "missing required key 'realm' (password_ha1 is bound to one realm)");
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return auth;
}

// The transport towards the first hop: the line's own `transport`, else what the first
// hop's URI says (";transport=", or sips: meaning TLS), else the inherited default. When
// none of these was written, transportExplicit stays false and DNS (NAPTR) decides.
void resolveTransport(Diagnostics& diag, const MapView& map, bool transportGiven, const ParsedTarget& firstHop,
                      const Field* firstHopField, const SipTarget& registrar, LineConfig& line) {
    const Field* transportField = map.find("transport");
    if (!transportGiven) {
        if (firstHop.transportParam) {
            line.transport = *firstHop.transportParam;
            line.transportExplicit = true;
        } else if (firstHop.target.secure) {
            line.transport = Transport::Tls;
            line.transportExplicit = true;
        }
    } else if (firstHop.transportParam && *firstHop.transportParam != line.transport && transportField) {
        diag.error(transportField->mark(), transportField->path,
                   std::string(toString(line.transport)) + " conflicts with ';transport=" +
                       std::string(toString(*firstHop.transportParam)) + "' in " + firstHopField->key);
        return;
    }
    if ((registrar.secure || firstHop.target.secure) && line.transport != Transport::Tls) {
        const Field* at = transportField ? transportField : firstHopField;
        diag.error(at ? at->mark() : map.mark(), at ? at->path : map.path(),
                   "a sips: URI needs transport tls (got " + std::string(toString(line.transport)) + ")");
    }
}

}  // namespace

std::optional<LineConfig> parseLine(Diagnostics& diag, const YamlNode& node, const Mark& fallbackMark,
                                    const std::string& path, const LineSettings& defaults,
                                    const SecretContext& secrets, LineFacts& facts) {
    if (!expectMap(diag, node, fallbackMark, path, "a map describing a line")) return std::nullopt;
    const std::size_t errorsBefore = diag.errorCount();
    MapView map(diag, node, fallbackMark, path, lineKeys());
    LineConfig line;
    static_cast<LineSettings&>(line) = defaults;

    map.requireKey("id", "a unique name for the line");
    if (const Field* f = map.find("id")) {
        facts.idMark = f->mark();
        if (auto id = parseId(diag, *f)) {
            facts.id = *id;
            line.id = std::move(*id);
        }
    }
    if (const Field* f = map.find("enabled")) {
        if (auto v = readBool(diag, *f)) line.enabled = *v;
    }
    const bool transportGiven = parseSettings(diag, map, line, secrets.configDirectory);

    std::optional<ParsedAor> aor;
    map.requireKey("aor", "the address of record, e.g. sip:alice@example.net");
    if (const Field* f = map.find("aor")) {
        if (auto text = readString(diag, *f)) {
            auto parsed = parseAor(*text);
            if (parsed) {
                aor = std::move(parsed.value());
                line.aor = *text;
                line.aorUser = aor->user;
                line.aorHost = aor->host;
            } else {
                diag.error(f->mark(), f->path, parsed.error().message);
            }
        }
    }

    std::optional<ParsedTarget> registrar;
    const Field* registrarField = map.find("registrar");
    if (registrarField) {
        registrar = parseTargetField(diag, *registrarField, false);
    } else if (aor) {
        // RFC 3261 10.2.6: without a configured registrar, REGISTER goes to the AOR's domain.
        const std::string host = aor->hostIsIpv6 ? "[" + aor->host + "]" : aor->host;
        auto derived = parseSipTarget((aor->secure ? "sips:" : "sip:") + host, false);
        if (derived) registrar = std::move(derived.value());
    }

    std::optional<ParsedTarget> proxy;
    const Field* proxyField = map.find("outbound_proxy");
    if (proxyField) proxy = parseTargetField(diag, *proxyField, true);

    if (registrar && (!proxyField || proxy)) {
        line.registrar = registrar->target;
        const ParsedTarget& firstHop = proxy ? *proxy : *registrar;
        resolveTransport(diag, map, transportGiven, firstHop, proxy ? proxyField : registrarField,
                         registrar->target, line);
    }
    if (proxy) line.outboundProxy = proxy->target;

    // Inherited TLS settings are expected on non-TLS lines; the line's own block is not.
    // Without an explicit transport NAPTR may still choose TLS, so the block can matter.
    const Field* tlsField = map.find("tls");
    if (tlsField && line.transportExplicit && line.transport != Transport::Tls && diag.errorCount() == errorsBefore) {
        diag.warning(tlsField->keyMark, tlsField->path,
                     "has no effect: this line's transport is " + std::string(toString(line.transport)) +
                         ", not tls");
    }

    if (const Field* f = map.find("display_name")) {
        if (auto v = readText(diag, *f, limits::kMaxTextLength, false)) line.displayName = *v;
    }

    const Field* contactField = map.find("contact");
    const Field* contactUserField = map.find("contact_user");
    if (contactField && contactUserField) {
        diag.error(contactUserField->keyMark, contactUserField->path,
                   "give either contact or contact_user, not both");
    } else if (contactField) {
        if (auto text = readString(diag, *contactField)) {
            auto parsed = parseAor(*text);
            if (!parsed) {
                diag.error(contactField->mark(), contactField->path, parsed.error().message);
            } else {
                line.contact = *text;
                line.contactUser = parsed->user;
            }
        }
    } else if (contactUserField) {
        if (auto v = readString(diag, *contactUserField)) {
            if (!isValidUserPart(*v)) {
                diag.error(contactUserField->mark(), contactUserField->path,
                           "'" + *v + "' is not a valid SIP user part (escape other characters as %XX)");
            } else {
                line.contactUser = *v;
            }
        }
    } else if (aor) {
        line.contactUser = aor->user;
    }

    if (const Field* f = map.find("auth")) line.auth = parseAuth(diag, *f, aor ? &*aor : nullptr, secrets, facts);

    if (diag.errorCount() != errorsBefore) return std::nullopt;
    return line;
}

}  // namespace sipreg::config::detail
