#include "control_client.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace sipreg::ctl {
namespace {

volatile sig_atomic_t gInterrupted = 0;

void onSignal(int) { gInterrupted = 1; }

std::string connectError(const std::string& path, int err) {
    switch (err) {
        case ENOENT:
            return "no control socket at " + path +
                   " (is sipregd running, with control.socket set to this path? -s PATH names another)";
        case EACCES:
        case EPERM:
            return "permission denied on " + path +
                   " (run as root or as a member of the socket's group; its mode is control.mode)";
        case ECONNREFUSED:
            return "nothing listens on " + path + " (sipregd is not running)";
        case ENOTSOCK:
            return path + " is not a socket";
        default:
            return "cannot connect to " + path + ": " + std::strerror(err);
    }
}

int remainingMs(std::optional<Clock::time_point> deadline) {
    if (!deadline) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

}  // namespace

ControlClient::~ControlClient() {
    if (fd_ >= 0) ::close(fd_);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), buffered_(std::move(other.buffered_)) {}

void ControlClient::installSignalHandlers() {
    struct sigaction sa {};
    sa.sa_handler = &onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() must return EINTR
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

bool ControlClient::interrupted() noexcept { return gInterrupted != 0; }

Result<ControlClient> ControlClient::connect(const std::string& path, Clock::time_point deadline) {
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return makeError("control socket path \"" + path + "\" is empty or too long");
    }
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    // A full accept queue answers EAGAIN on a non-blocking Unix socket: try again until
    // the deadline rather than block without bound.
    while (true) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) return makeError(std::string("cannot create a socket: ") + std::strerror(errno));
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) return ControlClient(fd, path);
        const int err = errno;
        ::close(fd);
        if (err != EAGAIN && err != EINTR) return makeError(connectError(path, err));
        if (interrupted()) return makeError(kInterrupted);
        if (Clock::now() >= deadline) return makeError("timed out connecting to " + path + " (sipregd is busy)");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Result<void> ControlClient::waitFor(short events, std::optional<Clock::time_point> deadline, const char* what) {
    while (true) {
        if (interrupted()) return makeError(kInterrupted);
        pollfd p{fd_, events, 0};
        const int timeout = remainingMs(deadline);
        const int rc = ::poll(&p, 1, timeout);
        if (rc > 0) return {};
        if (rc < 0 && errno != EINTR) return makeError(std::string("poll: ") + std::strerror(errno));
        if (rc == 0 && deadline && Clock::now() >= *deadline) {
            return makeError(std::string("timed out ") + what + " (sipregd at " + path_ + " did not answer)");
        }
    }
}

Result<void> ControlClient::send(std::string_view bytes, Clock::time_point deadline) {
    while (!bytes.empty()) {
        if (auto w = waitFor(POLLOUT, deadline, "sending the request"); !w) return w;
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return makeError(std::string("sending to sipregd: ") + std::strerror(errno));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::string> ControlClient::readLine(std::optional<Clock::time_point> deadline) {
    while (true) {
        const std::size_t nl = buffered_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        if (buffered_.size() > kMaxReplyBytes) return makeError("reply from sipregd is too long");
        if (auto w = waitFor(POLLIN, deadline, "waiting for the reply"); !w) return w.error();
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return makeError(std::string("reading from sipregd: ") + std::strerror(errno));
        }
        if (n == 0) return makeError("sipregd closed the connection");
        buffered_.append(chunk, static_cast<std::size_t>(n));
    }
}

}  // namespace sipreg::ctl
