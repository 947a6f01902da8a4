// libFuzzer target: loadConfigString on the input as YAML. Secrets resolve against a fixed
// environment (FUZZ_PASSWORD is set, nothing else) and a folder that does not exist, so a run
// never depends on the machine. Every issue is formatted; a loaded configuration must compare
// equal to itself in a reload diff and be summarizable.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/check.h"
#include "config/diff.h"
#include "config/loader.h"

using namespace sipreg;

namespace {

void touch(std::string_view v) {
    volatile unsigned char sink = 0;
    for (char c : v) sink = sink ^ static_cast<unsigned char>(c);
    (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    config::LoadOptions options;
    options.getEnv = [](const std::string& name) -> std::optional<std::string> {
        if (name == "FUZZ_PASSWORD") return std::string("fuzz-password");
        return std::nullopt;
    };
    options.baseDirectory = "/nonexistent/sipregd-fuzz";

    const config::LoadResult result = config::loadConfigString(yaml, "fuzz.yaml", options);
    // The model exists exactly when there is no error.
    if (result.ok() != result.errors.empty()) __builtin_trap();
    for (const auto& issue : result.errors) touch(issue.format("error"));
    for (const auto& issue : result.warnings) touch(issue.format("warning"));
    if (!result.config) return 0;

    const config::ConfigDiff same = config::diffConfigs(*result.config, *result.config);
    if (!same.empty() || !same.added.empty() || !same.removed.empty()) __builtin_trap();
    touch(config::summarize(*result.config));
    return 0;
}
