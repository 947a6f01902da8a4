#include "net/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>

namespace sipreg::net {

namespace {

constexpr const char* kTimestampedPattern = "%Y-%m-%d %H:%M:%S.%e [%l] %v";
// %* is the syslog priority flag below; journald strips it and records the priority.
constexpr const char* kJournalPattern = "%*[%l] %v";

class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        char prefix[4] = {'<', static_cast<char>('0' + syslogPriority(msg.level)), '>', '\0'};
        dest.append(prefix, prefix + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<SyslogPriorityFlag>();
    }
};

template <class T>
bool parseUnsigned(std::string_view text, T& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc{} && ptr == text.data() + text.size();
}

}  // namespace

Result<spdlog::level::level_enum> parseLogLevel(std::string_view text) {
    if (text == "trace") return spdlog::level::trace;
    if (text == "debug") return spdlog::level::debug;
    if (text == "info") return spdlog::level::info;
    if (text == "warn") return spdlog::level::warn;
    if (text == "error") return spdlog::level::err;
    return makeError("invalid log level \"" + std::string(text) + "\" (expected trace, debug, info, warn or error)");
}

bool journalStreamMatches(std::string_view journalStream, dev_t device, ino_t inode) {
    const auto colon = journalStream.find(':');
    if (colon == std::string_view::npos) return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (!parseUnsigned(journalStream.substr(0, colon), dev)) return false;
    if (!parseUnsigned(journalStream.substr(colon + 1), ino)) return false;
    return dev == static_cast<unsigned long long>(device) && ino == static_cast<unsigned long long>(inode);
}

LogFormat detectLogFormat() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (env == nullptr || env[0] == '\0') return LogFormat::Timestamped;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return LogFormat::Timestamped;
    return journalStreamMatches(env, st.st_dev, st.st_ino) ? LogFormat::Journal : LogFormat::Timestamped;
}

int syslogPriority(spdlog::level::level_enum level) noexcept {
    switch (level) {
        case spdlog::level::trace:
        case spdlog::level::debug: return 7;
        case spdlog::level::info: return 6;
        case spdlog::level::warn: return 4;
        case spdlog::level::err: return 3;
        case spdlog::level::critical: return 2;
        default: return 6;
    }
}

void applyLogFormat(spdlog::logger& logger, LogFormat format) {
    if (format == LogFormat::Journal) {
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<SyslogPriorityFlag>('*').set_pattern(kJournalPattern);
        logger.set_formatter(std::move(formatter));
    } else {
        logger.set_formatter(std::make_unique<spdlog::pattern_formatter>(kTimestampedPattern));
    }
}

std::shared_ptr<spdlog::logger> setupLogging(spdlog::level::level_enum level, LogFormat format) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("sipregd", std::move(sink));
    applyLogFormat(*logger, format);
    logger->set_level(level);
    // Warnings and errors must reach the journal or terminal even if the process dies next.
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    return logger;
}

}  // namespace sipreg::net
