// AES-256-GCM on OpenSSL's EVP interface (sealed_box.h).
#include "base/sealed_box.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "base/assert.h"
#include "base/sha256.h"

namespace reliant {
namespace {

using Context = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

Context new_context() {
  Context context(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  RELIANT_ASSERT(context != nullptr);
  return context;
}

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

Error refused() {
  return Error{ErrorCode::permission_denied,
               "the sealed value does not open: altered, or sealed under another key"};
}

}  // namespace

std::string SealKey::fingerprint() const {
  const Sha256::Digest digest =
      Sha256::of(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return to_hex(digest.data(), 8);
}

std::string seal(const SealKey& key, const std::array<std::uint8_t, kSealNonceBytes>& nonce,
                 std::string_view plaintext, std::string_view associated_data) {
  Context context = new_context();
  std::string out(kSealNonceBytes + plaintext.size() + kSealTagBytes, '\0');
  std::copy(nonce.begin(), nonce.end(), out.begin());
  auto* cipher = reinterpret_cast<unsigned char*>(out.data() + kSealNonceBytes);
  int length = 0;
  RELIANT_ASSERT(EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                                    nonce.data()) == 1);
  RELIANT_ASSERT(EVP_EncryptUpdate(context.get(), nullptr, &length, bytes_of(associated_data),
                                   static_cast<int>(associated_data.size())) == 1);
  RELIANT_ASSERT(EVP_EncryptUpdate(context.get(), cipher, &length, bytes_of(plaintext),
                                   static_cast<int>(plaintext.size())) == 1);
  RELIANT_ASSERT(EVP_EncryptFinal_ex(context.get(), cipher + length, &length) == 1 && length == 0);
  RELIANT_ASSERT(EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kSealTagBytes,
                                     cipher + plaintext.size()) == 1);
  return out;
}

Result<std::string> open_sealed(const SealKey& key, std::string_view sealed,
                                std::string_view associated_data) {
  if (sealed.size() < kSealNonceBytes + kSealTagBytes) return fail(refused());
  const std::size_t text_size = sealed.size() - kSealNonceBytes - kSealTagBytes;
  const std::string_view cipher = sealed.substr(kSealNonceBytes, text_size);
  std::string tag(sealed.substr(kSealNonceBytes + text_size));
  Context context = new_context();
  std::string out(text_size, '\0');
  int length = 0;
  bool ok =
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                         bytes_of(sealed)) == 1 &&
      EVP_DecryptUpdate(context.get(), nullptr, &length, bytes_of(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                        bytes_of(cipher), static_cast<int>(cipher.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kSealTagBytes, tag.data()) == 1;
  int final_length = 0;
  ok = ok &&
       EVP_DecryptFinal_ex(context.get(), reinterpret_cast<unsigned char*>(out.data()) + length,
                           &final_length) == 1;
  if (!ok) return fail(refused());
  return out;
}

}  // namespace reliant
