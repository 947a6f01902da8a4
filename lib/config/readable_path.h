#pragma once
// Files the daemon opens later (TLS trust, certificates, keys) are proven readable when
// the configuration is loaded, so `--check` and a reload catch a typo instead of the first
// connection attempt.
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::config {

enum class PathKind { File, Directory };

struct ReadablePath {
    bool readableByOthers = false;  // mode & 0004
};

// Opens `path` (a regular file, or a directory it can list and search) and closes it again.
// Errors: "cannot read '<path>': <OS reason | not a regular file>".
Result<ReadablePath> checkReadablePath(const std::string& path, PathKind kind);

// Absolute paths as written; relative ones against the config file's folder.
std::string resolveConfigPath(std::string_view value, std::string_view configDirectory);

}  // namespace sipreg::config
