#pragma once
// The stages of reading one document (internal to lib/config): global settings,
// defaults, and one line at a time. Each reports into Diagnostics and keeps going.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"
#include "config/yaml_reader.h"
#include "config/yaml_document.h"

namespace sipreg::config::detail {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct SecretContext {
    std::string configDirectory;                     // base of relative password_file paths
    std::optional<std::string> credentialsDirectory; // $CREDENTIALS_DIRECTORY
    EnvLookup getEnv;
};

// What the loader needs to know about a parsed line beyond the model.
struct LineFacts {
    std::optional<std::string> id;  // set when the id itself is valid, even if the line is not
    Mark idMark;
    std::optional<Mark> literalPassword;  // where a literal `password:` key sits
};

// Relative paths (control.socket) are resolved against configDirectory.
GlobalSettings parseGlobal(Diagnostics& diag, const MapView& root, const std::string& configDirectory);

// The operations blocks of the global settings: `control`, `metrics`, `on_change`.
ControlSettings parseControl(Diagnostics& diag, const MapView& root, const std::string& configDirectory);
MetricsSettings parseMetrics(Diagnostics& diag, const MapView& root);
OnChangeSettings parseOnChange(Diagnostics& diag, const MapView& root);

// Built-in defaults overridden by the `defaults:` block. Relative TLS file paths are
// resolved against configDirectory.
LineSettings parseDefaults(Diagnostics& diag, const MapView& root, const std::string& configDirectory);

std::optional<LineConfig> parseLine(Diagnostics& diag, const YamlNode& node, const Mark& fallbackMark,
                                    const std::string& path, const LineSettings& defaults,
                                    const SecretContext& secrets, LineFacts& facts);

// Settings keys shared by `defaults:` and each line, merged over `into`. Returns true when
// this map gives `transport`.
bool parseSettings(Diagnostics& diag, const MapView& map, LineSettings& into, const std::string& configDirectory);

// Keys accepted by parseSettings, for building each map's allowed-key list.
extern const std::vector<std::string_view> kSettingsKeys;

}  // namespace sipreg::config::detail
