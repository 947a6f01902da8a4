#pragma once
// The validated configuration: plain values with every default applied, so the
// registration engine never has to know which key was written and which was inherited.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/secret.h"

namespace sipreg::config {

using Seconds = std::chrono::seconds;

enum class Transport { Udp, Tcp, Tls };
enum class KeepaliveMethod { Crlf, Options };
enum class LogLevel { Trace, Debug, Info, Warn, Error };
enum class DigestAlgorithm { Md5, Sha256, Sha512_256 };

// The word a config file uses for each value ("udp", "options", "info", "SHA-256").
// (doctest finds these by ADL: compare these enums inside CHECK((a == b)).)
std::string_view toString(Transport t) noexcept;
std::string_view toString(KeepaliveMethod m) noexcept;
std::string_view toString(LogLevel l) noexcept;
std::string_view toString(DigestAlgorithm a) noexcept;  // "MD5", "SHA-256", "SHA-512-256"

struct ListenAddress {
    std::string address;  // IP literal, IPv6 without brackets
    uint16_t port = 0;    // 0: any free port
    bool isIpv6 = false;
    friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

struct InviteResponse {
    int code = 480;
    std::string reason;
    friend bool operator==(const InviteResponse&, const InviteResponse&) = default;
};

// Resolvers asked for NAPTR/SRV/A/AAAA records.
struct DnsSettings {
    // Normalised "ip:port" or "[ip6]:port" (what ares_set_servers_ports_csv takes, comma-joined).
    // Empty: the system resolver's servers.
    std::vector<std::string> servers;
    Seconds timeout{2};  // per query and server, before the next try
    friend bool operator==(const DnsSettings&, const DnsSettings&) = default;
};

// The local control socket (sipregctl). Bound at start; a reload keeps the running one.
struct ControlSettings {
    std::string socket = "/run/sipregd/control.sock";  // resolved: absolute, or relative to the config's folder
    bool socketGiven = false;  // `control.socket` was written (not the default)
    uint32_t mode = 0660;      // permission bits only (<= 0777)
    friend bool operator==(const ControlSettings&, const ControlSettings&) = default;
};

// The Prometheus endpoint. Bound at start; a reload keeps the running one.
struct MetricsSettings {
    std::optional<ListenAddress> listen;  // nullopt: off; otherwise an IP literal and a non-zero port
    friend bool operator==(const MetricsSettings&, const MetricsSettings&) = default;
};

// A program run on every line state change (argv as given, no shell).
struct OnChangeSettings {
    std::vector<std::string> command;  // empty: off; command[0] is an absolute path
    Seconds timeout{10};               // killed when still running after this
    friend bool operator==(const OnChangeSettings&, const OnChangeSettings&) = default;
};

// Requests that reach our socket from outside a transaction (OPTIONS probes, INVITEs).
enum class AnswerFrom { Any, Registrars };
std::string_view toString(AnswerFrom a) noexcept;  // "any", "registrars"

struct RequestSettings {
    // Registrars: only requests whose source IP is the first hop (registrar or outbound proxy)
    // of some line are answered; the rest are dropped and counted. Requests on a TCP/TLS
    // connection are always from a first hop (we never accept connections).
    AnswerFrom answerFrom = AnswerFrom::Any;
    int maxRate = 200;  // new answers per second; requests above it are dropped and counted
    friend bool operator==(const RequestSettings&, const RequestSettings&) = default;
};

struct GlobalSettings {
    std::vector<ListenAddress> listen;
    int maxRate = 50;  // new transactions per second, all lines together
    Seconds startSpread{5};
    Seconds shutdownTimeout{5};
    LogLevel logLevel = LogLevel::Info;
    InviteResponse inviteResponse;
    RequestSettings requests;
    DnsSettings dns;
    ControlSettings control;
    MetricsSettings metrics;
    OnChangeSettings onChange;
    friend bool operator==(const GlobalSettings&, const GlobalSettings&) = default;
};

struct RetryPolicy {
    Seconds base{30};
    Seconds max{1800};
    friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

struct NatSettings {
    bool rewriteContact = true;
    int maxRewritesPerHour = 4;
    friend bool operator==(const NatSettings&, const NatSettings&) = default;
};

// How a TLS line trusts its peer and presents itself. File paths are resolved (relative
// ones against the config file's folder) and were readable when the file was loaded.
struct TlsSettings {
    std::string caFile;      // PEM bundle; with caPath empty too: the system trust store
    std::string caPath;      // directory of hashed CA certificates (c_rehash)
    bool verify = true;      // check the peer's certificate chain and name
    std::string serverName;  // SNI and the name checked; empty: the first hop's host
    std::string certFile;    // client certificate (PEM); set together with keyFile
    std::string keyFile;     // its private key (PEM)
    std::string ciphers;     // OpenSSL cipher list for TLS 1.2; empty: OpenSSL's default
    friend bool operator==(const TlsSettings&, const TlsSettings&) = default;
};

// The settings a line inherits from `defaults:` and may override.
struct LineSettings {
    Transport transport = Transport::Udp;  // towards the first hop (outbound proxy or registrar)
    // True when the transport was written down: the line's or the defaults' `transport`, the
    // first hop's ";transport=", or a sips: URI. False: RFC 3263 NAPTR/SRV picks it (and
    // `transport` holds only the UDP fallback).
    bool transportExplicit = false;
    TlsSettings tls;                       // merged key by key over the defaults' block
    Seconds expires{3600};
    std::string userAgent;                 // empty: no User-Agent header
    RetryPolicy retry;
    Seconds failedRetry{600};
    std::optional<Seconds> keepalive;      // nullopt: off
    KeepaliveMethod keepaliveMethod = KeepaliveMethod::Crlf;
    NatSettings nat;
    friend bool operator==(const LineSettings&, const LineSettings&) = default;
};

// A registrar or outbound proxy, with the parts the engine needs already extracted.
struct SipTarget {
    std::string uri;                 // normalised text, e.g. "sip:pbx.example.net:5080;transport=tcp"
    std::string host;                // IPv6 without brackets
    bool hostIsIpv6 = false;
    std::optional<uint16_t> port;    // nullopt: resolve per RFC 3263 (SRV) or use the default port
    bool secure = false;             // sips: scheme
    bool looseRouting = false;       // ";lr" present (meaningful for proxies)
    friend bool operator==(const SipTarget&, const SipTarget&) = default;
};

uint16_t defaultPort(Transport t) noexcept;  // 5060, or 5061 for TLS

enum class SecretSource { Literal, File, Environment, Ha1Only };

struct AuthConfig {
    std::string username;              // digest username (unescaped)
    std::optional<std::string> realm;  // answer only this realm's challenges when set
    std::optional<Secret> password;    // absent only with SecretSource::Ha1Only
    std::map<DigestAlgorithm, Secret> ha1;  // lowercase hex H(username:realm:password)
    SecretSource source = SecretSource::Literal;
    std::string sourceName;            // file path or variable name (never the value)
    friend bool operator==(const AuthConfig&, const AuthConfig&) = default;
};

struct LineConfig : LineSettings {
    std::string id;
    bool enabled = true;
    SipTarget registrar;
    std::string aor;                   // as written (sip:/sips: URI)
    std::string aorUser;               // still percent-escaped; may be empty
    std::string aorHost;
    std::string displayName;           // empty: none
    std::optional<AuthConfig> auth;    // nullopt: never answer challenges
    std::string contactUser;           // user part for our own Contact (escaped form)
    std::optional<std::string> contact;  // full Contact URI (third-party registration)
    std::optional<SipTarget> outboundProxy;
    friend bool operator==(const LineConfig&, const LineConfig&) = default;
};

struct Config {
    GlobalSettings global;
    std::vector<LineConfig> lines;  // file order

    const LineConfig* findLine(std::string_view id) const noexcept;
};

// One-line human description for logs and debugging; secrets show as "<redacted>".
std::string describe(const LineConfig& line);
std::string describe(const GlobalSettings& global);

}  // namespace sipreg::config
