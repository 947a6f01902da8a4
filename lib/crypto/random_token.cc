#include "crypto/random_token.h"

#include <vector>

#include "crypto/hex.h"

namespace sipreg::crypto {

std::string randomToken(RandomSource& source, std::size_t bytes, TokenEncoding encoding) {
    std::vector<uint8_t> buffer(bytes);
    source.fill(buffer);
    switch (encoding) {
        case TokenEncoding::Hex: return toHex(buffer);
        case TokenEncoding::Base64Url: return toBase64Url(buffer);
    }
    return toHex(buffer);
}

}  // namespace sipreg::crypto
