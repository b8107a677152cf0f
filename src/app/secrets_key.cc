// Reading (and, for the monolith, making) the server's secrets key (secrets_key.h).
#include "app/secrets_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "app/secure_random.h"
#include "base/sha256.h"

namespace reliant {
void add_secrets_key_option(CLI::App& command, std::string& file) {
  command
      .add_option("--secrets-key-file", file,
                  "A file whose first line is 64 hex digits (openssl rand -hex 32): the key that "
                  "seals the provider API keys users keep in their settings. The api servers and "
                  "workers of a deployment share it; without it users cannot keep keys")
      ->envname("RELIANT_SECRETS_KEY_FILE");
}

Result<std::shared_ptr<const SealKey>> read_secrets_key(const std::string& path) {
  const std::string what = "--secrets-key-file " + path;
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::invalid_argument, what + ": cannot read it");
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.size() != 2 * kSealKeyBytes) {
    return fail(ErrorCode::invalid_argument,
                what + ": its first line must be 64 hex digits (openssl rand -hex 32)");
  }
  auto key = std::make_shared<SealKey>();
  for (std::size_t i = 0; i < kSealKeyBytes; ++i) {
    const char* digits = line.data() + 2 * i;
    unsigned value = 0;
    const auto [end, error] = std::from_chars(digits, digits + 2, value, 16);
    if (error != std::errc() || end != digits + 2) {
      return fail(ErrorCode::invalid_argument, what + ": its first line holds a non-hex character");
    }
    key->bytes[i] = static_cast<std::uint8_t>(value);
  }
  return std::shared_ptr<const SealKey>(std::move(key));
}

Result<std::shared_ptr<const SealKey>> monolith_secrets_key(const std::string& file,
                                                            const std::string& data_dir) {
  if (!file.empty()) return read_secrets_key(file);
  const std::string path = data_dir + "/secrets.key";
  if (!std::filesystem::exists(path)) {
    std::array<std::uint8_t, kSealKeyBytes> bytes{};
    secure_random_bytes(bytes.data(), bytes.size());
    const std::string text = to_hex(bytes.data(), bytes.size()) + "\n";
    // Private, and whole or not at all: written beside it, then renamed into place (the data
    // directory's lock keeps a second monolith out).
    const std::string partial = path + ".new";
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorCode::internal, "cannot create " + partial);
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!written || !synced || ::rename(partial.c_str(), path.c_str()) != 0) {
      return fail(ErrorCode::internal, "cannot write " + path);
    }
  }
  return read_secrets_key(path);
}

}  // namespace reliant
