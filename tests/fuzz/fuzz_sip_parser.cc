// libFuzzer target: parseDatagram, then every typed accessor and validateRequest/Response on
// whatever parses. Any crash, sanitizer report or exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/serializer.h"
#include "sip/typed_headers.h"
#include "sip/validate.h"

using namespace sipreg::sip;

namespace {

void touch(std::string_view v) {
    // Reading every byte lets ASan catch a view that points outside the message buffer.
    volatile unsigned char sink = 0;
    for (char c : v) sink = sink ^ static_cast<unsigned char>(c);
    (void)sink;
}

void touchUri(const Uri& u) {
    touch(u.scheme);
    touch(u.user);
    touch(u.password);
    touch(u.host);
    touch(u.params);
    touch(u.headers);
    touch(u.opaque);
    (void)u.param("transport");
    (void)u.param("lr");
    (void)u.hostPort();
    (void)percentDecode(u.user);
}

void touchParams(const ParamList& p) {
    for (const auto& item : p.items) {
        touch(item.name);
        touch(item.value);
    }
    (void)p.unquoted("tag");
    (void)p.unquoted("realm");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto m = parseDatagram(input);
    if (!m) return 0;
    touch(m->raw());
    touch(m->body());
    touch(m->method());
    touch(m->reason());
    touchUri(m->requestUri());
    for (const auto& h : m->headers()) {
        touch(h.name);
        touch(h.value);
    }
    if (auto v = vias(*m)) {
        for (const auto& via : *v) {
            touch(via.host);
            touch(via.branch());
            (void)via.received();
            (void)via.rport();
            touchParams(via.params);
        }
    }
    for (auto* accessor : {&fromHeader, &toHeader}) {
        if (auto na = accessor(*m)) {
            touchUri(na->uri);
            touchParams(na->params);
            touch(na->tag());
        }
    }
    (void)callId(*m);
    (void)cseq(*m);
    if (auto c = contacts(*m)) {
        for (const auto& cv : *c) {
            (void)cv.expires();
            (void)cv.q();
            (void)cv.instance();
            (void)cv.regId();
            touchUri(cv.address.uri);
        }
    }
    (void)expires(*m);
    (void)minExpires(*m);
    (void)retryAfter(*m);
    (void)maxForwards(*m);
    (void)contentLength(*m);
    for (auto* accessor : {&wwwAuthenticate, &proxyAuthenticate}) {
        if (auto a = accessor(*m)) {
            for (const auto& av : *a) touchParams(av.params);
        }
    }
    if (auto ai = authenticationInfo(*m); ai && *ai) touchParams(**ai);
    for (auto sv : supported(*m)) touch(sv);
    for (auto sv : require(*m)) touch(sv);
    for (auto sv : allow(*m)) touch(sv);
    if (m->isRequest()) {
        if (validateRequest(*m)) {
            // A valid request must be answerable, and the answer must parse again.
            // Unfolding may join lines past the default line limit, so the limits are relaxed.
            ParseLimits relaxed;
            relaxed.maxMessageBytes = 1 << 20;
            relaxed.maxLineBytes = 1 << 20;
            auto reply = parseDatagram(serialize(makeResponse(*m, 200, "OK", "fuzz")), relaxed);
            if (!reply) __builtin_trap();
        }
    } else {
        (void)validateResponse(*m);
    }
    return 0;
}
