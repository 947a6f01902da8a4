#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <unordered_map>

#include "config/limits.h"
#include "config/parsers.h"
#include "config/yaml_reader.h"

namespace sipreg::config {

namespace {

using detail::Diagnostics;
using detail::Field;
using detail::MapView;
using detail::Mark;
using detail::YamlNode;

constexpr std::array<std::string_view, 13> kTopLevelKeys{
    "listen", "max_rate", "start_spread", "shutdown_timeout", "log_level", "invite_response", "requests", "dns",
    "control", "metrics", "on_change", "defaults", "lines"};
constexpr std::array<detail::RetiredKey, 1> kRetiredTopLevelKeys{
    {{"tls", "TLS settings are per line now: move this block under 'defaults:' (for every line) or into a line, "
             "and rename verify_peer to verify"}}};

struct FileFacts {
    std::optional<mode_t> mode;  // known for files, not for strings
};

std::optional<std::string> processEnv(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
}

std::string directoryOf(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string modeText(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

void parseLines(Diagnostics& diag, const MapView& root, const LineSettings& defaults,
                const detail::SecretContext& secrets, const FileFacts& file, Config& config) {
    root.requireKey("lines", "the list of lines to register");
    const Field* f = root.find("lines");
    if (!f) return;
    if (!f->value.isSequence()) {
        diag.error(f->mark(), f->path, "expected a list of lines, got " + detail::describeKind(f->value));
        return;
    }
    if (f->value.size() == 0) diag.warning(f->mark(), f->path, "no lines configured; nothing will be registered");

    struct FirstUse {
        Mark mark;
        std::size_t index;
    };
    std::unordered_map<std::string, FirstUse> ids;
    ids.reserve(f->value.size());
    std::optional<Mark> firstLiteralPassword;
    std::string firstLiteralPasswordPath;
    std::size_t literalPasswords = 0;

    config.lines.reserve(f->value.size());
    std::size_t index = 0;
    for (const YamlNode& node : f->value.items()) {
        const std::string path = detail::indexPath("lines", index);
        detail::LineFacts facts;
        auto line = detail::parseLine(diag, node, f->mark(), path, defaults, secrets, facts);
        if (facts.literalPassword) {
            if (!firstLiteralPassword) {
                firstLiteralPassword = facts.literalPassword;
                firstLiteralPasswordPath = path + ".auth.password";
            }
            ++literalPasswords;
        }
        // Duplicates are checked even for lines with other errors, so all problems show at once.
        bool duplicate = false;
        if (facts.id) {
            auto [it, inserted] = ids.emplace(*facts.id, FirstUse{facts.idMark, index});
            if (!inserted) {
                duplicate = true;
                diag.error(facts.idMark, path + ".id",
                           "duplicate line id '" + *facts.id + "' (first used by lines[" +
                               std::to_string(it->second.index) + "] at " + diag.file() + ":" +
                               std::to_string(it->second.mark.line + 1) + ":" +
                               std::to_string(it->second.mark.column + 1) + ")");
            }
        }
        if (line && !duplicate) config.lines.push_back(std::move(*line));
        ++index;
    }

    if (firstLiteralPassword && file.mode && (*file.mode & S_IROTH)) {
        diag.warning(*firstLiteralPassword, firstLiteralPasswordPath,
                     "the config file is readable by other users (mode " + modeText(*file.mode) + ") and holds " +
                         std::to_string(literalPasswords) + " literal password" + (literalPasswords == 1 ? "" : "s") +
                         "; chmod o-r it or use password_file / password_env");
    }
}

LoadResult parseDocument(std::string_view text, const std::string& displayName, const LoadOptions& options,
                         const std::string& configDirectory, const FileFacts& file) {
    Diagnostics diag(displayName);
    LoadResult result;
    const detail::YamlDocument parsed = detail::parseYamlDocument(text);
    if (parsed.error) {
        diag.error(parsed.error->mark, "", "YAML syntax error: " + parsed.error->message);
        result.errors = diag.takeErrors();
        return result;
    }
    const YamlNode& doc = parsed.root;

    detail::SecretContext secrets;
    secrets.getEnv = options.getEnv ? options.getEnv : processEnv;
    secrets.configDirectory = configDirectory;
    secrets.credentialsDirectory = secrets.getEnv("CREDENTIALS_DIRECTORY");

    Config config;
    // An empty document has no position of its own: point at its start.
    const Mark documentStart{0, 0};
    if (!detail::expectMap(diag, doc, documentStart, "", "a map with at least 'lines'")) {
        result.errors = diag.takeErrors();
        return result;
    }
    MapView root(diag, doc, documentStart, "", kTopLevelKeys, kRetiredTopLevelKeys);
    config.global = detail::parseGlobal(diag, root, configDirectory);
    const LineSettings defaults = detail::parseDefaults(diag, root, configDirectory);
    parseLines(diag, root, defaults, secrets, file, config);

    result.errors = diag.takeErrors();
    result.warnings = diag.takeWarnings();
    if (result.errors.empty()) result.config = std::move(config);
    return result;
}

}  // namespace

LoadResult loadConfigString(std::string_view yaml, const std::string& displayName, const LoadOptions& options) {
    return parseDocument(yaml, displayName, options, options.baseDirectory.empty() ? "." : options.baseDirectory,
                         FileFacts{});
}

LoadResult loadConfigFile(const std::string& path, const LoadOptions& options) {
    auto unreadable = [&](const std::string& why) {
        LoadResult r;
        r.unreadable = true;
        r.errors.push_back(ConfigIssue{path, 0, 0, "", "cannot read the configuration file: " + why});
        return r;
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return unreadable(std::generic_category().message(errno));
    struct stat st {};
    std::string text;
    std::string failure;
    if (::fstat(fd, &st) != 0) {
        failure = std::generic_category().message(errno);
    } else if (!S_ISREG(st.st_mode)) {
        failure = "not a regular file";
    } else if (static_cast<unsigned long long>(st.st_size) > limits::kMaxConfigFileBytes) {
        failure = "larger than " + std::to_string(limits::kMaxConfigFileBytes) + " bytes";
    } else {
        text.reserve(static_cast<std::size_t>(st.st_size));
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                failure = std::generic_category().message(errno);
                break;
            }
            if (n == 0) break;
            text.append(buffer, static_cast<std::size_t>(n));
            if (text.size() > limits::kMaxConfigFileBytes) {
                failure = "larger than " + std::to_string(limits::kMaxConfigFileBytes) + " bytes";
                break;
            }
        }
    }
    ::close(fd);
    if (!failure.empty()) return unreadable(failure);
    return parseDocument(text, path, options, directoryOf(path), FileFacts{st.st_mode});
}

}  // namespace sipreg::config
