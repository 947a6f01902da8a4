#pragma once
// The one table of defaults and accepted ranges; docs/configuration.md mirrors it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipreg::config::limits {

using std::chrono::seconds;

struct DurationRange {
    seconds min;
    seconds max;
};

struct IntRange {
    long long min;
    long long max;
};

inline constexpr DurationRange kExpires{seconds{10}, seconds{86400}};
inline constexpr seconds kDefaultExpires{3600};

inline constexpr DurationRange kRetryBase{seconds{1}, seconds{3600}};
inline constexpr seconds kDefaultRetryBase{30};
inline constexpr DurationRange kRetryMax{seconds{1}, seconds{86400}};
inline constexpr seconds kDefaultRetryMax{1800};

inline constexpr DurationRange kFailedRetry{seconds{10}, seconds{86400}};
inline constexpr seconds kDefaultFailedRetry{600};

inline constexpr DurationRange kKeepalive{seconds{5}, seconds{3600}};

inline constexpr IntRange kMaxRewritesPerHour{0, 60};
inline constexpr int kDefaultMaxRewritesPerHour = 4;

inline constexpr IntRange kMaxRate{1, 100000};
inline constexpr int kDefaultMaxRate = 50;
// requests.max_rate: answers per second to requests from outside.
inline constexpr IntRange kRequestMaxRate{1, 100000};
inline constexpr int kDefaultRequestMaxRate = 200;

inline constexpr DurationRange kStartSpread{seconds{0}, seconds{3600}};
inline constexpr seconds kDefaultStartSpread{5};

inline constexpr DurationRange kShutdownTimeout{seconds{0}, seconds{300}};
inline constexpr seconds kDefaultShutdownTimeout{5};

inline constexpr IntRange kInviteResponseCode{400, 699};
inline constexpr int kDefaultInviteResponseCode = 480;

inline constexpr DurationRange kDnsTimeout{seconds{1}, seconds{30}};
inline constexpr seconds kDefaultDnsTimeout{2};
inline constexpr uint16_t kDefaultDnsPort = 53;
inline constexpr std::size_t kMaxDnsServers = 16;

// sun_path holds 108 bytes including the terminating NUL.
inline constexpr std::string_view kDefaultControlSocket = "/run/sipregd/control.sock";
inline constexpr std::size_t kMaxControlSocketPathLength = 107;
inline constexpr uint32_t kDefaultControlSocketMode = 0660;
inline constexpr uint32_t kMaxControlSocketMode = 0777;  // permission bits only, no setuid/sticky

inline constexpr DurationRange kOnChangeTimeout{seconds{1}, seconds{300}};
inline constexpr seconds kDefaultOnChangeTimeout{10};
inline constexpr std::size_t kMaxOnChangeArguments = 64;       // argv0 included
inline constexpr std::size_t kMaxOnChangeArgumentLength = 4096;

inline constexpr IntRange kListenPort{0, 65535};
inline constexpr IntRange kTargetPort{1, 65535};

inline constexpr std::string_view kDefaultListenAddress = "0.0.0.0";
inline constexpr std::string_view kDefaultUserAgent = "sipregd";

inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::size_t kMaxTextLength = 256;       // user_agent, display_name, reason
inline constexpr std::size_t kMaxSecretFileBytes = 4096;
inline constexpr std::size_t kMaxServerNameLength = 253;  // a DNS name's longest text form
inline constexpr std::size_t kMaxCipherListLength = 2048;
inline constexpr std::size_t kMaxConfigFileBytes = 64 * 1024 * 1024;
// Maps and lists inside each other; the real layout needs 4, and the tree is freed recursively.
inline constexpr std::size_t kMaxYamlNesting = 64;

}  // namespace sipreg::config::limits
