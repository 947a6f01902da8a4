#pragma once
// A blocking client for the control socket: connect, send one request line, read reply
// lines. Every wait has a deadline except a trace stream's (which ends on Ctrl-C); an
// interrupting signal ends any wait with Interrupted.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::ctl {

using Clock = std::chrono::steady_clock;

class ControlClient {
public:
    static constexpr std::size_t kMaxReplyBytes = 64 * 1024 * 1024;
    static constexpr const char* kInterrupted = "interrupted";

    ~ControlClient();
    ControlClient(ControlClient&& other) noexcept;
    ControlClient& operator=(ControlClient&&) = delete;
    ControlClient(const ControlClient&) = delete;
    ControlClient& operator=(const ControlClient&) = delete;

    // Errors say why the daemon cannot be reached (missing socket, permission, nobody
    // listening, timeout) in words an operator can act on.
    static Result<ControlClient> connect(const std::string& path, Clock::time_point deadline);

    Result<void> send(std::string_view bytes, Clock::time_point deadline);
    // One line without its '\n'. nullopt deadline: wait as long as it takes.
    Result<std::string> readLine(std::optional<Clock::time_point> deadline);

    // Makes SIGINT/SIGTERM interrupt waits (instead of killing the process) and stops
    // SIGPIPE from killing it when the daemon goes away.
    static void installSignalHandlers();
    static bool interrupted() noexcept;

private:
    ControlClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    Result<void> waitFor(short events, std::optional<Clock::time_point> deadline, const char* what);

    int fd_ = -1;
    std::string path_;
    std::string buffered_;
};

}  // namespace sipreg::ctl
