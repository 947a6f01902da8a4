#pragma once
// Loading and validating a sipregd configuration. Every problem is reported (not only the
// first), each with file:line:column and key path; the model exists only without errors.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_issue.h"
#include "config/model.h"

namespace sipreg::config {

struct LoadOptions {
    // Looks up password_env variables and CREDENTIALS_DIRECTORY. Empty: the process environment.
    std::function<std::optional<std::string>(const std::string&)> getEnv;
    // Base for relative password_file paths when loading from a string (a file load uses
    // the file's own folder). Empty: the current directory.
    std::string baseDirectory;
};

struct LoadResult {
    std::optional<Config> config;     // set exactly when errors is empty
    std::vector<ConfigIssue> errors;
    std::vector<ConfigIssue> warnings;
    bool unreadable = false;          // the file itself could not be read (errors says why)

    bool ok() const noexcept { return config.has_value(); }
};

LoadResult loadConfigFile(const std::string& path, const LoadOptions& options = {});

// `displayName` stands for the file name in messages.
LoadResult loadConfigString(std::string_view yaml, const std::string& displayName, const LoadOptions& options = {});

}  // namespace sipreg::config
