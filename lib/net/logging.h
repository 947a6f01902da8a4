#pragma once
// Process logging on spdlog. Under systemd (stderr is the journal stream named by
// JOURNAL_STREAM) lines carry a syslog "<N>" priority prefix and no timestamp, since
// journald stamps and prioritises them itself; elsewhere they are timestamped on stderr.
#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <memory>
#include <string_view>
#include <sys/types.h>

#include "util/result.h"

namespace sipreg::net {

enum class LogFormat { Timestamped, Journal };

// "trace" | "debug" | "info" | "warn" | "error"
Result<spdlog::level::level_enum> parseLogLevel(std::string_view text);

// JOURNAL_STREAM is "<device>:<inode>" of the journal socket; systemd documents that a
// process should compare it with its stderr, since a redirected stderr inherits the
// variable without being the journal.
bool journalStreamMatches(std::string_view journalStream, dev_t device, ino_t inode);
// Journal when JOURNAL_STREAM names this process's stderr.
LogFormat detectLogFormat();

// syslog priority journald reads from a "<N>" prefix: 7 debug, 6 info, 4 warning, 3 err, 2 crit.
int syslogPriority(spdlog::level::level_enum level) noexcept;

// Installs the pattern for `format` on one logger (used by setupLogging and by tests).
void applyLogFormat(spdlog::logger& logger, LogFormat format);

// Creates the "sipregd" logger on stderr, makes it spdlog's default, and returns it.
std::shared_ptr<spdlog::logger> setupLogging(spdlog::level::level_enum level, LogFormat format);
inline std::shared_ptr<spdlog::logger> setupLogging(spdlog::level::level_enum level) {
    return setupLogging(level, detectLogFormat());
}

}  // namespace sipreg::net
