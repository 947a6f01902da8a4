#pragma once
// ASCII helpers for auth-param handling. Internal to the auth library.
#include <string>
#include <string_view>
#include <vector>

namespace sipreg::auth::ascii {

bool iequals(std::string_view a, std::string_view b) noexcept;
std::string_view trim(std::string_view s) noexcept;  // SP, HTAB, CR, LF
// Splits on `separator`, trims each piece and drops empty pieces.
std::vector<std::string_view> splitTrimmed(std::string_view s, char separator);
// A value that may be written inside a quoted-string: no CTL except HTAB.
bool isQuotable(std::string_view s) noexcept;
// `"` + value with `"` and `\` escaped + `"`.
std::string quote(std::string_view s);

}  // namespace sipreg::auth::ascii
