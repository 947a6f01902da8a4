#pragma once
// Reading secrets from files (plain paths and systemd credentials).
#include <optional>
#include <string>
#include <string_view>

#include "config/secret.h"
#include "util/result.h"

namespace sipreg::config {

struct SecretFile {
    Secret value;
    bool readableByOthers = false;  // mode & 0004
};

// Reads a regular file of at most limits::kMaxSecretFileBytes and strips one trailing
// newline ("\n" or "\r\n"). Errors name the path and the OS reason, never the content.
Result<SecretFile> readSecretFile(const std::string& path);

// Where a password_file value points: absolute paths as written; a name without '/'
// inside $CREDENTIALS_DIRECTORY when that is set (systemd LoadCredential=); any other
// relative path (and a bare name without credentials) relative to the config file's folder.
std::string resolveSecretPath(std::string_view value, std::string_view configDirectory,
                              const std::optional<std::string>& credentialsDirectory);

}  // namespace sipreg::config
