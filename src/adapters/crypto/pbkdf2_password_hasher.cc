// PBKDF2-HMAC-SHA256 through OpenSSL; the comparison is CRYPTO_memcmp (constant time).
#include "adapters/crypto/pbkdf2_password_hasher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>

#include "base/assert.h"
#include "base/base64url.h"
#include "runtime/future.h"

namespace reliant {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// Bounds on what a stored hash may ask for: below, it is no protection; above, a corrupt row
// could pin a thread for minutes.
constexpr int kMinIterations = 1'000;
constexpr int kIterationsMax = 10'000'000;

std::string derive(const std::string& password, const std::string& salt, int iterations) {
  std::array<unsigned char, kHashBytes> out{};
  RELIANT_ASSERT(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                   reinterpret_cast<const unsigned char*>(salt.data()),
                                   static_cast<int>(salt.size()), iterations, EVP_sha256(),
                                   static_cast<int>(out.size()), out.data()) == 1);
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

}  // namespace

Pbkdf2PasswordHasher::Pbkdf2PasswordHasher(Executor& executor, int iterations)
    : executor_(executor), iterations_(iterations), pool_(1) {}

std::string Pbkdf2PasswordHasher::hash_now(const std::string& password, int iterations) {
  std::array<unsigned char, kSaltBytes> salt_bytes{};
  RELIANT_ASSERT_MSG(RAND_bytes(salt_bytes.data(), static_cast<int>(salt_bytes.size())) == 1,
                     "the OS random generator failed");
  const std::string salt(reinterpret_cast<const char*>(salt_bytes.data()), salt_bytes.size());
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + base64url_encode(salt) +
         "$" + base64url_encode(derive(password, salt, iterations));
}

bool Pbkdf2PasswordHasher::verify_now(const std::string& password, const std::string& stored) {
  // scheme $ iterations $ salt $ hash
  std::string_view rest = stored;
  std::string_view fields[4];
  for (int i = 0; i < 4; ++i) {
    const auto dollar = rest.find('$');
    if ((i < 3) == (dollar == std::string_view::npos)) return false;
    fields[i] = rest.substr(0, dollar);
    rest = i < 3 ? rest.substr(dollar + 1) : std::string_view();
  }
  if (fields[0] != kScheme) return false;
  int iterations = 0;
  const auto [end, ec] =
      std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), iterations);
  if (ec != std::errc() || end != fields[1].data() + fields[1].size() ||
      iterations < kMinIterations || iterations > kIterationsMax)
    return false;
  const auto salt = base64url_decode(fields[2]);
  const auto expected = base64url_decode(fields[3]);
  if (!salt || !expected || expected->size() != kHashBytes) return false;
  const std::string actual = derive(password, *salt, iterations);
  return CRYPTO_memcmp(actual.data(), expected->data(), kHashBytes) == 0;
}

Task<std::string> Pbkdf2PasswordHasher::hash(std::string password) {
  auto [promise, future] = make_promise<std::string>(executor_);
  pool_.submit([this, password = std::move(password), promise = promise](std::size_t) {
    std::string stored = hash_now(password, iterations_);
    executor_.post([promise, stored = std::move(stored)] { promise.set(stored); });
  });
  std::string stored = co_await future;
  co_return stored;
}

Task<bool> Pbkdf2PasswordHasher::verify(std::string password, std::string stored) {
  auto [promise, future] = make_promise<bool>(executor_);
  pool_.submit([this, password = std::move(password), stored = std::move(stored),
                promise = promise](std::size_t) {
    const bool matches = verify_now(password, stored);
    executor_.post([promise, matches] { promise.set(matches); });
  });
  const bool matches = co_await future;
  co_return matches;
}

}  // namespace reliant
