#pragma once
// The filesystem side of the control socket: a path that fits a sockaddr_un, a leftover
// socket file from a previous run removed only when nothing listens on it, and the file
// removed at close only while it is still the one this process bound.
#include <sys/types.h>

#include <string>

#include "util/result.h"

namespace sipreg::control {

// A path usable for AF_UNIX (non-empty, fits sun_path).
Result<void> checkSocketPath(const std::string& path);

// Nothing at `path`: fine. A socket nobody accepts on: removed. A socket something
// listens on, or a file that is not a socket: an error (never removed).
Result<void> clearStaleSocket(const std::string& path);

// Identity of the file at `path` (device, inode), to recognise it later.
struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    bool valid = false;
};
FileIdentity identify(const std::string& path);

// Removes `path` if it is still the file `id` names.
void removeIfSame(const std::string& path, const FileIdentity& id);

}  // namespace sipreg::control
