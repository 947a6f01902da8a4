#include "control/socket_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sipreg::control {
namespace {

std::string errnoText(int e) { return std::strerror(e); }

}  // namespace

Result<void> checkSocketPath(const std::string& path) {
    if (path.empty()) return makeError("control socket path is empty");
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) {
        return makeError("control socket path " + path + " is too long (at most " +
                         std::to_string(sizeof(addr.sun_path) - 1) + " bytes)");
    }
    if (path.find('\0') != std::string::npos) return makeError("control socket path contains a NUL byte");
    return {};
}

Result<void> clearStaleSocket(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return makeError("cannot inspect " + path + ": " + errnoText(errno));
    }
    if (!S_ISSOCK(st.st_mode)) return makeError(path + " exists and is not a socket; not removing it");

    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return makeError("cannot test " + path + ": " + errnoText(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    // A Unix-domain connect completes or fails at once: a listener answers, a leftover
    // file refuses.
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    const int err = errno;
    ::close(fd);
    if (rc == 0 || err == EAGAIN) return makeError("another process is listening on " + path);
    if (err != ECONNREFUSED) return makeError("cannot test " + path + ": " + errnoText(err));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return makeError("cannot remove the stale socket " + path + ": " + errnoText(errno));
    }
    return {};
}

FileIdentity identify(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    return FileIdentity{st.st_dev, st.st_ino, true};
}

void removeIfSame(const std::string& path, const FileIdentity& id) {
    if (!id.valid) return;
    const FileIdentity now = identify(path);
    if (now.valid && now.device == id.device && now.inode == id.inode) ::unlink(path.c_str());
}

}  // namespace sipreg::control
