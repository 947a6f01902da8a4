#include "config/readable_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace sipreg::config {

Result<ReadablePath> checkReadablePath(const std::string& path, PathKind kind) {
    auto fail = [&](const std::string& why) { return makeError("cannot read '" + path + "': " + why); };
    // The kind is checked before opening: opening some devices has side effects.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fail(std::generic_category().message(errno));
    if (kind == PathKind::File && !S_ISREG(st.st_mode)) return fail("not a regular file");
    if (kind == PathKind::Directory && !S_ISDIR(st.st_mode)) return fail("not a directory");
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (kind == PathKind::Directory) flags |= O_DIRECTORY;
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) return fail(std::generic_category().message(errno));
    ::close(fd);
    // Certificates in a CA directory are opened by name, which needs search permission.
    if (kind == PathKind::Directory && ::access(path.c_str(), X_OK) != 0) {
        return fail(std::generic_category().message(errno));
    }
    return ReadablePath{(st.st_mode & S_IROTH) != 0};
}

std::string resolveConfigPath(std::string_view value, std::string_view configDirectory) {
    if (!value.empty() && value.front() == '/') return std::string(value);
    std::string out(configDirectory);
    if (out.empty()) return std::string(value);
    if (out.back() != '/') out += '/';
    out += value;
    return out;
}

}  // namespace sipreg::config
