// HMAC-SHA256 on OpenSSL's one-shot HMAC; checked against RFC 4231's vectors in tests/unit/base.
#include "base/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/assert.h"

namespace reliant {

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message) {
  Sha256::Digest digest{};
  unsigned int length = 0;
  const unsigned char* done = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                   reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size(), digest.data(), &length);
  RELIANT_ASSERT(done != nullptr && length == digest.size());
  return digest;
}

std::string hmac_bytes(HmacHash hash, std::string_view key, std::string_view message) {
  const EVP_MD* md = hash == HmacHash::sha1     ? EVP_sha1()
                     : hash == HmacHash::sha256 ? EVP_sha256()
                                                : EVP_sha512();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const unsigned char* done =
      HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  RELIANT_ASSERT(done != nullptr && length > 0 && length <= EVP_MAX_MD_SIZE);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace reliant
