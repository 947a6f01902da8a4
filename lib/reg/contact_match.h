#pragma once
// Finding our own binding among the Contacts a registrar lists in its 2xx.
#include <optional>
#include <string_view>
#include <vector>

#include "sip/typed_headers.h"
#include "sip/uri.h"

namespace sipreg::reg {

// RFC 3261 19.1.4 URI equality for the parts a registrar keys a binding on: scheme and
// host case-insensitive, user case-sensitive after unescaping, port equal, and the
// `transport` parameter equal when both carry it. One leniency on purpose: a missing port
// equals the scheme's default (5060/5061), because registrars add or drop the default
// port when they echo a Contact and we would otherwise lose track of our own binding.
bool sameBinding(const sip::Uri& a, const sip::Uri& b);

// The expires= of the first Contact that is our binding; nullopt when none is ours or ours
// has no expires parameter.
std::optional<uint32_t> ourContactExpires(const std::vector<sip::ContactValue>& contacts,
                                          const sip::Uri& ours);

}  // namespace sipreg::reg
