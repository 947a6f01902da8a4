#pragma once
// Checks that go beyond syntax (RFC 3261 8.2.2, 8.1.3.3): what a UAS answers with 400/505 and
// what a UAC discards. parseDatagram only checks syntax so the message can still be answered.
#include "sip/message.h"
#include "util/result.h"

namespace sipreg::sip {

// SIP/2.0; exactly one From, To, Call-ID and CSeq, each well-formed; CSeq method equal to the
// request method; at least one well-formed Via; at most one Max-Forwards; Contact, Expires and
// Content-Length well-formed; no headers part in a SIP Request-URI (RFC 3261 19.1.5).
Result<void> validateRequest(const Message& m);
// SIP/2.0; at least one Via; exactly one From, To, Call-ID and CSeq, each well-formed.
Result<void> validateResponse(const Message& m);

}  // namespace sipreg::sip
