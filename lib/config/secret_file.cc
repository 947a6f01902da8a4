#include "config/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "config/limits.h"

namespace sipreg::config {

namespace {

std::string osReason(int error) { return std::generic_category().message(error); }

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

std::string joinFile(std::string_view directory, std::string_view name) {
    std::string out(directory);
    if (out.empty()) return std::string(name);
    if (out.back() != '/') out += '/';
    out += name;
    return out;
}

}  // namespace

Result<SecretFile> readSecretFile(const std::string& path) {
    auto fail = [&](const std::string& why) { return makeError("cannot read '" + path + "': " + why); };
    // O_NONBLOCK: a FIFO or device named by mistake must not hang start-up.
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) return fail(osReason(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(osReason(errno));
    if (!S_ISREG(st.st_mode)) return fail("not a regular file");
    if (static_cast<unsigned long long>(st.st_size) > limits::kMaxSecretFileBytes) {
        return fail("larger than " + std::to_string(limits::kMaxSecretFileBytes) + " bytes");
    }

    std::string content;
    char buffer[1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(osReason(errno));
        }
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
        if (content.size() > limits::kMaxSecretFileBytes) {
            return fail("larger than " + std::to_string(limits::kMaxSecretFileBytes) + " bytes");
        }
    }
    if (!content.empty() && content.back() == '\n') {
        content.pop_back();
        if (!content.empty() && content.back() == '\r') content.pop_back();
    }
    if (content.empty()) return makeError("'" + path + "' is empty");
    return SecretFile{Secret(std::move(content)), (st.st_mode & S_IROTH) != 0};
}

std::string resolveSecretPath(std::string_view value, std::string_view configDirectory,
                              const std::optional<std::string>& credentialsDirectory) {
    if (!value.empty() && value.front() == '/') return std::string(value);
    if (value.find('/') == std::string_view::npos && credentialsDirectory && !credentialsDirectory->empty()) {
        return joinFile(*credentialsDirectory, value);
    }
    return joinFile(configDirectory, value);
}

}  // namespace sipreg::config
