#include "reg/contact_match.h"

#include <cctype>

namespace sipreg::reg {
namespace {

bool equalsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

uint16_t effectivePort(const sip::Uri& u) {
    if (u.port) return *u.port;
    return equalsNoCase(u.scheme, "sips") ? 5061 : 5060;
}

bool sameUser(std::string_view a, std::string_view b) {
    if (a == b) return true;
    auto da = sip::percentDecode(a);
    auto db = sip::percentDecode(b);
    return da && db && *da == *db;
}

}  // namespace

bool sameBinding(const sip::Uri& a, const sip::Uri& b) {
    if (!equalsNoCase(a.scheme, b.scheme)) return false;
    if (!a.isSip()) return a.opaque == b.opaque;
    if (!sameUser(a.user, b.user)) return false;
    if (!equalsNoCase(a.host, b.host)) return false;
    if (effectivePort(a) != effectivePort(b)) return false;
    const auto ta = a.param("transport");
    const auto tb = b.param("transport");
    if (ta && tb && !equalsNoCase(*ta, *tb)) return false;
    return true;
}

std::optional<uint32_t> ourContactExpires(const std::vector<sip::ContactValue>& contacts,
                                          const sip::Uri& ours) {
    for (const auto& c : contacts) {
        if (c.star || !sameBinding(c.address.uri, ours)) continue;
        return c.expires();
    }
    return std::nullopt;
}

}  // namespace sipreg::reg
