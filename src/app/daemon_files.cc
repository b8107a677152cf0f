// Reading and writing the daemon's files, with private permissions for secrets.
#include "app/daemon_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/data_dir.h"
#include "base/json_parse.h"

namespace reliant {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::unavailable, "cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes through a temporary file and a rename, so a crash never leaves half a file.
Result<void> write_text(const std::string& path, const std::string& text, mode_t mode) {
  // A private file's folder is private too when this creates it.
  if ((mode & 077) == 0) {
    if (auto made = ensure_private_directory(fs::path(path).parent_path().string()); !made)
      return fail(made.error());
  } else {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec)
      return fail(ErrorCode::unavailable,
                  "cannot create the folder of " + path + ": " + ec.message());
  }
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail(ErrorCode::unavailable, "cannot write " + temp);
  ::fchmod(fd, mode);  // an existing file keeps its old mode otherwise
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) {
      ::close(fd);
      return fail(ErrorCode::unavailable, "cannot write " + temp);
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    return fail(ErrorCode::unavailable, "cannot replace " + path);
  return {};
}

}  // namespace

Result<void> write_private_file(const std::string& path, const std::string& text) {
  return write_text(path, text, 0600);
}

Result<DaemonPaths> daemon_paths() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    return fail(ErrorCode::failed_precondition, "HOME is not set: cannot find the daemon's files");
  const std::string h = home;
#ifdef __APPLE__
  const std::string config = h + "/Library/Application Support/reliant";
#else
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const std::string config =
      (xdg != nullptr && *xdg != '\0' ? std::string(xdg) : h + "/.config") + "/reliant";
#endif
  const std::string state = h + "/.reliant";
  return DaemonPaths{config + "/auth/reliant-daemon.json",
                     config + "/auth/credentials.json",
                     state + "/daemon.json",
                     state + "/daemon-requests.journal",
                     state + "/daemon.pid",
                     state + "/daemon.log"};
}

Result<std::optional<DaemonCredentials>> load_credentials(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<DaemonCredentials>();
  auto text = read_text(path);
  if (!text) return fail(text.error());
  const auto json = parse_json_or_discarded(*text);
  if (!json.is_object() || !json.contains("token") || !json["token"].is_string()) {
    return fail(ErrorCode::invalid_argument,
                path + " is not a credentials file (delete it and run `reliant daemon register`)");
  }
  DaemonCredentials c;
  c.token = json["token"].get<std::string>();
  // Optional fields; a hand-edited file with a non-string there reads as not set.
  const auto field = [&json](const char* key) {
    return json.contains(key) && json[key].is_string() ? json[key].get<std::string>() : "";
  };
  c.user_id = field("user_id");
  c.server = field("server");
  c.email = field("email");
  c.token_id = field("token_id");
  return std::optional<DaemonCredentials>(std::move(c));
}

Result<void> save_credentials(const std::string& path, const DaemonCredentials& c) {
  nlohmann::json json = {{"token", c.token},
                         {"user_id", c.user_id},
                         {"server", c.server},
                         {"email", c.email},
                         {"token_id", c.token_id}};
  return write_text(path, json.dump(2) + "\n", 0600);
}

Result<void> remove_file_if_exists(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot delete " + path + ": " + ec.message());
  return {};
}

Result<DaemonIdentityFile> load_identity(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return DaemonIdentityFile{};
  auto text = read_text(path);
  if (!text) return fail(text.error());
  const auto json = parse_json_or_discarded(*text);
  if (!json.is_object()) return fail(ErrorCode::invalid_argument, path + " is not valid JSON");
  DaemonIdentityFile identity;
  identity.daemon_id = json.value("daemon_id", "");
  if (const auto seq = json.find("registration_seq");
      seq != json.end() && seq->is_number_unsigned()) {
    identity.registration_seq = seq->get<std::uint64_t>();
  }
  if (json.contains("labels") && json["labels"].is_object()) {
    for (const auto& [key, value] : json["labels"].items()) {
      if (!value.is_string())
        return fail(ErrorCode::invalid_argument, path + ": label " + key + " is not a string");
      identity.labels[key] = value.get<std::string>();
    }
  }
  return identity;
}

Result<void> save_identity(const std::string& path, const DaemonIdentityFile& identity) {
  nlohmann::json json = {{"daemon_id", identity.daemon_id},
                         {"labels", identity.labels},
                         {"registration_seq", identity.registration_seq}};
  return write_text(path, json.dump(2) + "\n", 0644);
}

Result<std::map<std::string, std::string>> parse_labels(const std::string& text) {
  std::map<std::string, std::string> labels;
  std::stringstream in(text);
  std::string pair;
  while (std::getline(in, pair, ',')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::invalid_argument,
                  "label \"" + pair + "\" is not key=value (e.g. --labels env=dev,gpu=true)");
    }
    labels[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return labels;
}

}  // namespace reliant
