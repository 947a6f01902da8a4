// The operations blocks of the global settings: `control` (sipregctl's socket), `metrics`
// (the Prometheus endpoint) and `on_change` (a program run on every state change).
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "config/ip_endpoint.h"
#include "config/parsers.h"
#include "config/readable_path.h"

namespace sipreg::config::detail {

namespace {

constexpr std::array<std::string_view, 2> kControlKeys{"socket", "mode"};
constexpr std::array<std::string_view, 1> kMetricsKeys{"listen"};
constexpr std::array<std::string_view, 2> kOnChangeKeys{"command", "timeout"};

std::string octal(uint32_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode));
    return buf;
}

bool hasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::optional<std::string> readSocketPath(Diagnostics& diag, const Field& f, const std::string& configDirectory) {
    auto value = readString(diag, f);
    if (!value) return std::nullopt;
    if (hasNul(*value)) {
        diag.error(f.mark(), f.path, "must not contain a NUL byte");
        return std::nullopt;
    }
    if (value->back() == '/') {
        diag.error(f.mark(), f.path,
                   "'" + *value + "' names a folder; give the socket's own name, such as /run/sipregd/control.sock");
        return std::nullopt;
    }
    std::string path = resolveConfigPath(*value, configDirectory);
    if (path.size() > limits::kMaxControlSocketPathLength) {
        std::string message = "'" + path + "' is " + std::to_string(path.size()) +
                              " bytes long; a Unix socket path may be at most " +
                              std::to_string(limits::kMaxControlSocketPathLength) + " bytes";
        if (path != *value) message += " (a relative path is taken from the config file's folder)";
        diag.error(f.mark(), f.path, std::move(message));
        return std::nullopt;
    }
    return path;
}

// "0660", "660", "0o660" and a plain 0660 all mean octal 660: a mode is never decimal.
std::optional<uint32_t> readMode(Diagnostics& diag, const Field& f) {
    const std::string expected = "an octal permission mode such as \"0660\" or \"0600\"";
    if (!f.value.isScalar()) {
        diag.error(f.mark(), f.path, "expected " + expected + ", got " + describeKind(f.value));
        return std::nullopt;
    }
    std::string_view digits = f.value.scalar();
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) digits.remove_prefix(2);
    uint32_t mode = 0;
    bool octalDigits = !digits.empty();
    for (char c : digits) {
        if (c < '0' || c > '7') {
            octalDigits = false;
            break;
        }
        if (mode <= 07777) mode = mode * 8 + static_cast<uint32_t>(c - '0');  // beyond: refused below
    }
    if (!octalDigits) {
        diag.error(f.mark(), f.path, "expected " + expected + ", got '" + f.value.scalar() + "'");
        return std::nullopt;
    }
    if (mode > limits::kMaxControlSocketMode) {
        diag.error(f.mark(), f.path,
                   "'" + f.value.scalar() + "' sets more than permission bits; expected at most 0777 (such as 0660)");
        return std::nullopt;
    }
    if (mode & S_IWOTH) {
        diag.warning(f.mark(), f.path,
                     "mode " + octal(mode) + " lets every local user control sipregd (reload, refresh, trace); "
                     "0660 with a shared group is usually enough");
    }
    return mode;
}

// The argv written as one string with spaces, shown back as a YAML list.
std::string asListSuggestion(std::string_view text) {
    std::string out = "[";
    bool first = true;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
        if (i == start) break;
        out += first ? "\"" : ", \"";
        out.append(text.substr(start, i - start));
        out += '"';
        first = false;
    }
    return out + "]";
}

// A program that cannot be run now is only a warning: --check may run as another user or
// on another machine than the daemon.
void warnIfNotRunnable(Diagnostics& diag, const Field& f, const std::string& program) {
    struct stat st {};
    std::string why;
    if (::stat(program.c_str(), &st) != 0) {
        why = std::generic_category().message(errno);
    } else if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else if (::access(program.c_str(), X_OK) != 0) {
        why = std::generic_category().message(errno);
    }
    if (!why.empty()) diag.warning(f.mark(), f.path, "cannot run '" + program + "': " + why);
}

// Checks one argv entry; argv0 must be an absolute path (no shell, no PATH search).
bool checkArgument(Diagnostics& diag, const Field& f, const std::string& value, bool isProgram) {
    if (hasNul(value)) {
        diag.error(f.mark(), f.path, "must not contain a NUL byte");
        return false;
    }
    if (value.size() > limits::kMaxOnChangeArgumentLength) {
        diag.error(f.mark(), f.path,
                   "must be at most " + std::to_string(limits::kMaxOnChangeArgumentLength) + " bytes long");
        return false;
    }
    if (!isProgram) return true;
    if (value.front() != '/') {
        diag.error(f.mark(), f.path,
                   "'" + value + "' is not an absolute path; the command runs without a shell or PATH search, so "
                   "give the program's full path, such as /usr/local/bin/" +
                       (value.find('/') == std::string::npos ? value : std::string("notify")));
        return false;
    }
    warnIfNotRunnable(diag, f, value);
    return true;
}

std::optional<std::vector<std::string>> readCommand(Diagnostics& diag, const Field& f) {
    if (f.value.isScalar()) {
        auto text = readString(diag, f);
        if (!text) return std::nullopt;
        if (text->find_first_of(" \t") != std::string::npos) {
            diag.error(f.mark(), f.path,
                       "'" + *text + "' is run without a shell, so it is not split into arguments; write the "
                       "program and each argument as a list item: " + asListSuggestion(*text));
            return std::nullopt;
        }
        if (!checkArgument(diag, f, *text, true)) return std::nullopt;
        return std::vector<std::string>{*text};
    }
    if (!f.value.isSequence()) {
        diag.error(f.mark(), f.path,
                   "expected a list: the program's absolute path, then its arguments, got " + describeKind(f.value));
        return std::nullopt;
    }
    if (f.value.size() == 0) {
        diag.error(f.mark(), f.path, "must list at least the program to run (leave on_change out to run nothing)");
        return std::nullopt;
    }
    if (f.value.size() > limits::kMaxOnChangeArguments) {
        diag.error(f.mark(), f.path,
                   "must list at most " + std::to_string(limits::kMaxOnChangeArguments) + " items (the program included)");
        return std::nullopt;
    }
    std::vector<std::string> argv;
    argv.reserve(f.value.size());
    bool ok = true;
    std::size_t index = 0;
    for (const YamlNode& node : f.value.items()) {
        const bool isProgram = index == 0;
        const Field entry{f.key, node, f.keyMark, indexPath(f.path, index++)};
        // Arguments may be empty strings; an argument that is a map or list is a mistake.
        auto value = readString(diag, entry, !isProgram);
        if (!value || !checkArgument(diag, entry, *value, isProgram)) {
            ok = false;
            continue;
        }
        argv.push_back(std::move(*value));
    }
    if (!ok) return std::nullopt;
    return argv;
}

}  // namespace

ControlSettings parseControl(Diagnostics& diag, const MapView& root, const std::string& configDirectory) {
    ControlSettings out;
    out.socket = std::string(limits::kDefaultControlSocket);
    out.mode = limits::kDefaultControlSocketMode;
    const Field* f = root.find("control");
    if (!f || !expectMap(diag, f->value, f->keyMark, f->path, "a map with socket and mode")) return out;
    MapView map(diag, f->value, f->keyMark, f->path, kControlKeys);
    if (const Field* socket = map.find("socket")) {
        if (auto path = readSocketPath(diag, *socket, configDirectory)) {
            out.socket = std::move(*path);
            out.socketGiven = true;
        }
    }
    if (const Field* mode = map.find("mode")) {
        if (auto v = readMode(diag, *mode)) out.mode = *v;
    }
    return out;
}

MetricsSettings parseMetrics(Diagnostics& diag, const MapView& root) {
    MetricsSettings out;
    const Field* f = root.find("metrics");
    if (!f || !expectMap(diag, f->value, f->keyMark, f->path, "a map with listen")) return out;
    MapView map(diag, f->value, f->keyMark, f->path, kMetricsKeys);
    map.requireKey("listen", "the address and port to serve /metrics on, such as 127.0.0.1:9560");
    const Field* listen = map.find("listen");
    if (!listen) return out;
    auto text = readString(diag, *listen);
    if (!text) return out;

    EndpointProblem problem{};
    auto endpoint = parseIpEndpoint(*text, problem);
    std::string why;
    if (!endpoint) {
        switch (problem) {
            case EndpointProblem::UnclosedBracket: why = "has '[' without ']'"; break;
            case EndpointProblem::JunkAfterBracket: why = "expected ':port' after ']'"; break;
            case EndpointProblem::EmptyPort: why = "has an empty port"; break;
            case EndpointProblem::BadPort: why = "port must be between 1 and 65535"; break;
            case EndpointProblem::NotAnAddress: why = "is not an IP address (the endpoint listens on an address, not a name)"; break;
        }
    } else if (!endpoint->port) {
        why = endpoint->isIpv6 ? "has no port (an IPv6 address with a port goes in brackets)" : "has no port";
    }
    if (!why.empty()) {
        diag.error(listen->mark(), listen->path,
                   "'" + *text + "' " + why + "; expected an IP address and a port, such as 127.0.0.1:9560, "
                   "0.0.0.0:9560 or [::1]:9560");
        return out;
    }
    out.listen = ListenAddress{endpoint->address, *endpoint->port, endpoint->isIpv6};
    return out;
}

OnChangeSettings parseOnChange(Diagnostics& diag, const MapView& root) {
    OnChangeSettings out;
    out.timeout = limits::kDefaultOnChangeTimeout;
    const Field* f = root.find("on_change");
    if (!f || !expectMap(diag, f->value, f->keyMark, f->path, "a map with command and timeout")) return out;
    MapView map(diag, f->value, f->keyMark, f->path, kOnChangeKeys);
    map.requireKey("command", "the program to run and its arguments, such as [/usr/local/bin/notify, --flag]");
    if (const Field* command = map.find("command")) {
        if (auto argv = readCommand(diag, *command)) out.command = std::move(*argv);
    }
    if (const Field* timeout = map.find("timeout")) {
        if (auto v = readDuration(diag, *timeout, limits::kOnChangeTimeout)) out.timeout = *v;
    }
    return out;
}

}  // namespace sipreg::config::detail
