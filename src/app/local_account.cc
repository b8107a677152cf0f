// Local account bootstrap: find or create local@localhost, check the saved token, mint a new one.
#include "app/local_account.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>

#include "adapters/asio/run_blocking.h"
#include "app/data_dir.h"
#include "app/secure_random.h"
#include "core/personal_access_token.h"
#include "runtime/ids.h"
#include "services/storage/accounts.h"

namespace reliant {

namespace {
constexpr const char* kLocalEmail = "local@localhost";
}

std::string local_token_path(const std::string& data_dir) { return data_dir + "/auth/token"; }

Result<std::string> read_local_token(const std::string& data_dir) {
  std::ifstream in(local_token_path(data_dir));
  if (!in) return fail(ErrorCode::not_found, "no token in " + local_token_path(data_dir));
  std::string token;
  std::getline(in, token);
  if (token.empty()) return fail(ErrorCode::not_found, local_token_path(data_dir) + " is empty");
  return token;
}

Result<LocalAccount> ensure_local_account(AsioExecutor& executor, Store& store,
                                          const std::string& data_dir) {
  LocalAccount account;
  account.token_file = local_token_path(data_dir);
  const std::int64_t now_ms = to_ms(executor.now());
  // A saved token that still authenticates is kept.
  if (auto saved = read_local_token(data_dir)) {
    auto check = [token = *saved, now_ms](SqlTransaction& tx) -> Result<std::string> {
      auto who = authenticate_token(tx, token, now_ms);
      if (!who) return fail(who.error());
      return who->user.id;
    };
    auto checked = run_blocking(executor, store.transact_for(std::move(check)));
    if (checked) {
      account.user_id = std::move(*checked);
      return account;
    }
    if (checked.error().code != ErrorCode::unauthenticated) return fail(checked.error());
  }
  IdGenerator ids(executor, Random(secure_random_u64()));
  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secure_random_bytes(secret.data(), secret.size());
  const std::string token = format_pat(secret);
  PersonalAccessToken meta{
      ids.next(), "", "monolith local token", pat_display_prefix(token), now_ms, {}, {}, {}};
  // The local user's id: the existing one's, or `new_id` for the user it creates.
  auto create = [new_id = ids.next(), meta, hash = hash_pat(token),
                 now_ms](SqlTransaction& tx) mutable -> Result<std::string> {
    auto existing = find_user_by_email(tx, kLocalEmail);
    if (!existing) return fail(existing.error());
    std::string user_id = new_id;
    if (*existing) {
      user_id = (*existing)->id;
    } else if (auto ok = insert_user(tx, User{user_id, kLocalEmail, "local", now_ms}); !ok) {
      return fail(ok.error());
    }
    meta.user_id = user_id;
    if (auto ok = insert_token(tx, meta, hash); !ok) return fail(ok.error());
    return user_id;
  };
  auto created = run_blocking(executor, store.transact_for(std::move(create)));
  if (!created) return fail(created.error());
  std::error_code ec;
  if (auto made = ensure_private_directory(data_dir + "/auth"); !made) return fail(made.error());
  {
    const std::string temp = account.token_file + ".tmp";
    std::ofstream out(temp, std::ios::trunc);
    if (!out) return fail(ErrorCode::unavailable, "cannot write " + temp);
    ::chmod(temp.c_str(), 0600);
    out << token << "\n";
    out.close();
    std::filesystem::rename(temp, account.token_file, ec);
    if (ec)
      return fail(ErrorCode::unavailable,
                  "cannot write " + account.token_file + ": " + ec.message());
  }
  account.user_id = std::move(*created);
  account.created = true;
  return account;
}

void write_web_link(const std::string& data_dir, const std::string& link) {
  const std::string file = (std::filesystem::path(data_dir) / "auth" / "web-link").string();
  ::unlink(file.c_str());
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string line = link + "\n";
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace reliant
