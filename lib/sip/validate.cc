#include "sip/validate.h"

#include <string>

#include "sip/typed_headers.h"

namespace sipreg::sip {
namespace {

Result<void> exactlyOnce(const Message& m, HeaderId id) {
    std::size_t n = 0;
    for (const auto& h : m.headers()) {
        if (h.id == id) ++n;
    }
    std::string name(canonicalHeaderName(id));
    if (n == 0) return makeError("missing " + name + " header");
    if (n > 1) return makeError("more than one " + name + " header");
    return {};
}

template <class T>
Result<void> check(const Result<T>& r) {
    if (!r) return r.error();
    return {};
}

Result<void> commonChecks(const Message& m) {
    if (m.version() != "SIP/2.0") {
        return makeError("unsupported SIP version '" + std::string(m.version()) + "'");
    }
    for (HeaderId id : {HeaderId::From, HeaderId::To, HeaderId::CallId, HeaderId::CSeq}) {
        if (auto r = exactlyOnce(m, id); !r) return r;
    }
    auto v = vias(m);
    if (!v) return v.error();
    if (v->empty()) return makeError("missing Via header");
    if (auto r = check(fromHeader(m)); !r) return r;
    if (auto r = check(toHeader(m)); !r) return r;
    if (auto r = check(callId(m)); !r) return r;
    if (auto r = check(cseq(m)); !r) return r;
    if (auto r = check(contentLength(m)); !r) return r;
    return {};
}

}  // namespace

Result<void> validateRequest(const Message& m) {
    if (!m.isRequest()) return makeError("not a request");
    if (auto r = commonChecks(m); !r) return r;
    std::size_t maxForwardsCount = 0;
    for (const auto& h : m.headers()) {
        if (h.id == HeaderId::MaxForwards) ++maxForwardsCount;
    }
    if (maxForwardsCount > 1) return makeError("more than one Max-Forwards header");
    if (auto r = check(maxForwards(m)); !r) return r;
    auto cs = cseq(m);
    if (cs->method != m.method()) {
        return makeError("CSeq method '" + std::string(cs->method) + "' does not match request method '" +
                         std::string(m.method()) + "'");
    }
    if (m.requestUri().isSip() && !m.requestUri().headers.empty()) {
        return makeError("Request-URI must not carry headers");
    }
    if (auto r = check(contacts(m)); !r) return r;
    if (auto r = check(expires(m)); !r) return r;
    return {};
}

Result<void> validateResponse(const Message& m) {
    if (!m.isResponse()) return makeError("not a response");
    return commonChecks(m);
}

}  // namespace sipreg::sip
