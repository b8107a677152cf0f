// PBKDF2 password hashes: a salted round trip, and every malformed or tampered string refused
// rather than crashing or matching.
#include <gtest/gtest.h>

#include <optional>

#include "adapters/asio/asio_executor.h"
#include "adapters/crypto/pbkdf2_password_hasher.h"
#include "runtime/scope.h"
#include "unit/support/real_loop.h"

namespace reliant {
namespace {

TEST(Pbkdf2PasswordHasher, VerifiesItsOwnHashesAndRefusesEverythingElse) {
  const std::string stored = Pbkdf2PasswordHasher::hash_now("hunter22", 1000);
  EXPECT_TRUE(stored.starts_with("pbkdf2-sha256$1000$"));
  EXPECT_TRUE(Pbkdf2PasswordHasher::verify_now("hunter22", stored));
  EXPECT_FALSE(Pbkdf2PasswordHasher::verify_now("hunter23", stored));
  EXPECT_NE(Pbkdf2PasswordHasher::hash_now("hunter22", 1000), stored) << "salted";
  // A character inside the hash: all six of its bits are data (the last one's low bits are
  // padding, which decoding ignores).
  std::string tampered = stored;
  char& inside = tampered[tampered.size() - 10];
  inside = inside == 'A' ? 'g' : 'A';
  EXPECT_FALSE(Pbkdf2PasswordHasher::verify_now("hunter22", tampered));
  for (const std::string& bad :
       std::vector<std::string>{"", "plain", "pbkdf2-sha256$1000$", "pbkdf2-sha256$x$AAAA$AAAA",
                                "pbkdf2-sha256$10$AAAA$AAAA", "md5$1000$AAAA$AAAA",
                                stored + "$extra", "pbkdf2-sha256$1000$!!$AAAA"}) {
    EXPECT_FALSE(Pbkdf2PasswordHasher::verify_now("hunter22", bad)) << bad;
  }
}

Task<void> hash_and_verify(Pbkdf2PasswordHasher& hasher, std::optional<bool>* right,
                           std::optional<bool>* wrong) {
  const std::string stored = co_await hasher.hash("secret");
  *right = co_await hasher.verify("secret", stored);
  *wrong = co_await hasher.verify("Secret", stored);
}

TEST(Pbkdf2PasswordHasher, WorksOffTheExecutorAndResumesOnIt) {
  AsioExecutor executor;
  Pbkdf2PasswordHasher hasher(executor, 1000);
  std::optional<bool> right, wrong;
  Scope scope(executor);
  scope.spawn(hash_and_verify(hasher, &right, &wrong));
  ASSERT_TRUE(testing::run_until(
      executor, [&] { return wrong.has_value(); }, std::chrono::seconds(10)));
  EXPECT_TRUE(*right);
  EXPECT_FALSE(*wrong);
}

}  // namespace
}  // namespace reliant
