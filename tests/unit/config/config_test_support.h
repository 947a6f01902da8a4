#pragma once
// Helpers for the configuration tests: temporary folders, an injected environment.
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace sipreg::config::test {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "sipregd-config-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

    std::string write(const std::string& name, std::string_view content, mode_t mode = 0600) const {
        const std::string file = path_ + "/" + name;
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            out << content;
            if (!out) throw std::runtime_error("cannot write " + file);
        }
        if (::chmod(file.c_str(), mode) != 0) throw std::runtime_error("chmod failed on " + file);
        return file;
    }

private:
    std::string path_;
};

using Env = std::map<std::string, std::string>;

inline LoadOptions withEnv(Env env, std::string baseDirectory = {}) {
    LoadOptions options;
    options.getEnv = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    options.baseDirectory = std::move(baseDirectory);
    return options;
}

// Loads YAML text as "test.yaml" with an environment that has only `env`.
inline LoadResult load(std::string_view yaml, Env env = {}) { return loadConfigString(yaml, "test.yaml", withEnv(std::move(env))); }

inline std::vector<std::string> issueTexts(const std::vector<ConfigIssue>& issues) {
    std::vector<std::string> out;
    for (const auto& i : issues) out.push_back(i.toString());
    return out;
}

inline std::string joined(const std::vector<ConfigIssue>& issues) {
    std::string out;
    for (const auto& i : issues) out += i.toString() + "\n";
    return out;
}

}  // namespace sipreg::config::test
