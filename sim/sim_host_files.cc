// SimHost's in-memory file system: files and directories under its roots, confined as the real
// host confines them (sim_host.h).
#include <algorithm>

#include "core/line_search.h"
#include "core/path.h"
#include "sim/sim_host.h"

namespace reliant::sim {

bool SimHost::is_file(std::string_view path) const { return files_.count(resolve(path)) != 0; }

bool SimHost::is_directory(std::string_view path) const {
  const std::string p = resolve(path);
  if (p == "/" || directories_.count(p) != 0) return true;
  // Implicit: some file or directory lies below it.
  const std::string prefix = p + "/";
  auto file = files_.lower_bound(prefix);
  if (file != files_.end() && file->first.starts_with(prefix)) return true;
  auto dir = directories_.lower_bound(prefix);
  return dir != directories_.end() && dir->starts_with(prefix);
}

std::optional<std::string> SimHost::file(std::string_view path) const {
  auto it = files_.find(resolve(path));
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

void SimHost::put_file(std::string_view path, std::string content) {
  auto stored = store_file(resolve(path), std::move(content), false);
  RELIANT_ASSERT_MSG(stored.has_value(), "SimHost::put_file: a parent is a file, or it is a dir");
}

void SimHost::make_directory(std::string_view path) {
  const std::string p = resolve(path);
  RELIANT_ASSERT_MSG(files_.count(p) == 0, "SimHost::make_directory: a file is in the way");
  if (p != "/") directories_.insert(p);
}

bool SimHost::remove(std::string_view path) {
  const std::string p = resolve(path);
  if (files_.erase(p) != 0) return true;
  if (!is_directory(p) || p == "/") return false;
  const std::string prefix = p + "/";
  std::erase_if(files_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
  std::erase_if(directories_, [&](const auto& dir) { return dir.starts_with(prefix); });
  directories_.erase(p);
  return true;
}

Result<void> SimHost::store_file(const std::string& absolute, std::string content, bool append) {
  if (absolute == "/" || is_directory(absolute)) {
    return fail(ErrorCode::invalid_argument, absolute + " is a directory");
  }
  for (std::string_view parent = parent_path(absolute); parent != "/";
       parent = parent_path(parent)) {
    if (files_.count(parent) != 0) {
      return fail(ErrorCode::invalid_argument,
                  "cannot create " + absolute + ": " + std::string(parent) + " is a file");
    }
  }
  if (append) {
    files_[absolute] += content;
  } else {
    files_[absolute] = std::move(content);
  }
  return {};
}

std::vector<FileEntry> SimHost::children(const std::string& dir) const {
  const std::string prefix = dir == "/" ? std::string("/") : dir + "/";
  std::map<std::string, FileEntry> by_name;
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix);
       ++it) {
    const std::string_view rest = std::string_view(it->first).substr(prefix.size());
    const std::size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    FileEntry entry;
    entry.path = prefix + name;
    entry.is_directory = slash != std::string_view::npos;
    if (!entry.is_directory) entry.size_bytes = it->second.size();
    by_name.emplace(name, std::move(entry));
  }
  for (auto it = directories_.lower_bound(prefix);
       it != directories_.end() && it->starts_with(prefix); ++it) {
    const std::string_view rest = std::string_view(*it).substr(prefix.size());
    const std::string name(rest.substr(0, rest.find('/')));
    if (name.empty()) continue;
    FileEntry entry;
    entry.path = prefix + name;
    entry.is_directory = true;
    by_name.emplace(name, std::move(entry));
  }
  std::vector<FileEntry> out;
  out.reserve(by_name.size());
  for (auto& [name, entry] : by_name) {
    // The daemon's own data is not even shown.
    const bool excluded =
        std::find(excluded_.begin(), excluded_.end(), entry.path) != excluded_.end();
    if (!excluded) out.push_back(std::move(entry));
  }
  return out;
}

void SimHost::exclude(std::string_view directory) {
  excluded_.push_back(normalize_path(directory));
}

Result<void> SimHost::confined(const std::string& absolute) const {
  for (const auto& excluded : excluded_) {
    if (path_within(excluded, absolute)) {
      return fail(ErrorCode::permission_denied,
                  absolute +
                      " is in the daemon's own data (its credentials and database), which "
                      "its file tools never reach");
    }
  }
  if (roots_.empty()) return {};
  for (const auto& root : roots_) {
    if (path_within(root, absolute)) return {};
  }
  std::string listed;
  for (const auto& root : roots_) listed += (listed.empty() ? "" : ", ") + root;
  return fail(ErrorCode::permission_denied,
              absolute + " is outside the daemon's workspace (" + listed + ")");
}

Task<Result<std::string>> SimHost::read_file(std::string path, std::size_t bytes_max) {
  const std::string p = resolve(path);
  if (auto allowed = confined(p); !allowed) co_return fail(allowed.error());
  auto it = files_.find(p);
  if (it != files_.end()) {
    if (it->second.size() > bytes_max) {
      co_return fail(ErrorCode::resource_exhausted,
                     p + " holds " + std::to_string(it->second.size()) + " bytes, more than the " +
                         std::to_string(bytes_max) + " allowed");
    }
    co_return it->second;
  }
  if (is_directory(p)) co_return fail(ErrorCode::invalid_argument, p + " is a directory");
  co_return fail(ErrorCode::not_found, p + " does not exist");
}

Task<Result<FileSearch>> SimHost::search_file(std::string path,
                                              std::shared_ptr<const LineMatcher> matcher,
                                              FileSearchLimits limits) {
  RELIANT_ASSERT(matcher != nullptr);
  Task<Result<std::string>> reading = read_file(std::move(path), limits.file_bytes_max);
  Result<std::string> content = co_await reading;
  if (!content) co_return fail(content.error());
  // Matching takes no virtual time: the simulator has no clock to run out of.
  co_return search_lines(*content, *matcher, limits);
}

Task<Result<void>> SimHost::write_file(std::string path, std::string content) {
  const std::string p = resolve(path);
  if (auto allowed = confined(p); !allowed) co_return fail(allowed.error());
  if (faults_ != nullptr && faults_->disk_full()) {
    co_return fail(ErrorCode::resource_exhausted, "no space left on device: " + p);
  }
  co_return store_file(p, std::move(content), false);
}

Task<Result<std::vector<FileEntry>>> SimHost::list_directory(std::string path,
                                                             std::size_t entries_max) {
  const std::string p = resolve(path);
  if (auto allowed = confined(p); !allowed) co_return fail(allowed.error());
  if (files_.count(p) != 0) co_return fail(ErrorCode::invalid_argument, p + " is not a directory");
  if (!is_directory(p)) co_return fail(ErrorCode::not_found, p + " does not exist");
  std::vector<FileEntry> entries = children(p);
  if (entries.size() > entries_max) {
    co_return fail(ErrorCode::resource_exhausted,
                   p + " holds more than the " + std::to_string(entries_max) + " entries allowed");
  }
  co_return entries;
}

Task<Result<FileEntry>> SimHost::stat(std::string path) {
  const std::string p = resolve(path);
  if (auto allowed = confined(p); !allowed) co_return fail(allowed.error());
  FileEntry entry;
  entry.path = path;
  auto it = files_.find(p);
  if (it != files_.end()) {
    entry.size_bytes = it->second.size();
    co_return entry;
  }
  if (!is_directory(p)) co_return fail(ErrorCode::not_found, p + " does not exist");
  entry.is_directory = true;
  co_return entry;
}

Result<void> SimHost::confined_entry(const std::string& absolute) const {
  if (absolute == "/") return fail(ErrorCode::permission_denied, "/ cannot be changed");
  for (const auto& root : roots_) {
    if (absolute == root) {
      return fail(ErrorCode::permission_denied,
                  absolute + " is a workspace root of the daemon, which it does not change");
    }
  }
  for (const auto& excluded : excluded_) {
    if (path_within(absolute, excluded)) {
      return fail(ErrorCode::permission_denied,
                  absolute + " holds the daemon's own data, which it does not change");
    }
  }
  return confined(absolute);
}

std::vector<std::string> SimHost::files_under(const std::string& absolute) const {
  std::vector<std::string> out;
  if (files_.count(absolute) != 0) out.emplace_back();
  const std::string prefix = absolute + "/";
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix);
       ++it) {
    out.push_back(it->first.substr(absolute.size()));
  }
  return out;
}

std::vector<std::string> SimHost::directories_under(const std::string& absolute) const {
  std::vector<std::string> out;
  if (directories_.count(absolute) != 0) out.emplace_back();
  const std::string prefix = absolute + "/";
  for (auto it = directories_.lower_bound(prefix);
       it != directories_.end() && it->starts_with(prefix); ++it) {
    out.push_back(it->substr(absolute.size()));
  }
  return out;
}

Result<void> SimHost::check_transfer(const std::string& from, const std::string& to) {
  if (files_.count(from) == 0 && !is_directory(from)) {
    return fail(ErrorCode::not_found, from + " does not exist");
  }
  if (files_.count(to) != 0 || is_directory(to)) {
    return fail(ErrorCode::already_exists, to + " exists already");
  }
  if (path_within(from, to)) {
    return fail(ErrorCode::invalid_argument, "cannot put " + from + " inside itself (" + to + ")");
  }
  const std::vector<std::string> files = files_under(from);
  const std::size_t entries = files.size() + directories_under(from).size();
  std::uint64_t bytes = 0;
  for (const auto& rest : files) bytes += files_.at(from + rest).size();
  if (entries > kTreeEntriesMax || bytes > kCopyBytesMax) {
    return fail(ErrorCode::resource_exhausted, from + " holds more than a copy may take");
  }
  for (std::string_view parent = parent_path(to); parent != "/"; parent = parent_path(parent)) {
    if (files_.count(parent) != 0) {
      return fail(ErrorCode::invalid_argument,
                  "cannot create " + to + ": " + std::string(parent) + " is a file");
    }
  }
  const std::string parent(parent_path(to));
  if (parent != "/") directories_.insert(parent);
  return {};
}

Task<Result<void>> SimHost::create_directory(std::string path) {
  const std::string p = resolve(path);
  if (auto allowed = confined(p); !allowed) co_return fail(allowed.error());
  if (files_.count(p) != 0) co_return fail(ErrorCode::invalid_argument, p + " is a file");
  for (std::string_view parent = parent_path(p); parent != "/"; parent = parent_path(parent)) {
    if (files_.count(parent) != 0) {
      co_return fail(ErrorCode::invalid_argument,
                     "cannot create " + p + ": " + std::string(parent) + " is a file");
    }
  }
  if (p != "/") directories_.insert(p);
  co_return Result<void>{};
}

Task<Result<void>> SimHost::remove_path(std::string path, bool recursive) {
  const std::string p = resolve(path);
  if (auto allowed = confined_entry(p); !allowed) co_return fail(allowed.error());
  if (files_.erase(p) != 0) co_return Result<void>{};
  if (!is_directory(p)) co_return fail(ErrorCode::not_found, p + " does not exist");
  const std::size_t below =
      files_under(p).size() + directories_under(p).size() - (directories_.count(p) != 0 ? 1 : 0);
  if (below != 0 && !recursive) {
    co_return fail(ErrorCode::failed_precondition,
                   p + " is a directory that is not empty (remove it recursively)");
  }
  if (below > kTreeEntriesMax) {
    co_return fail(
        ErrorCode::resource_exhausted,
        p + " holds more than the " + std::to_string(kTreeEntriesMax) + " entries allowed");
  }
  (void)remove(p);  // it is a directory: remove() cannot fail here
  co_return Result<void>{};
}

Task<Result<void>> SimHost::move_path(std::string from, std::string to) {
  const std::string source = resolve(from);
  const std::string target = resolve(to);
  if (auto allowed = confined_entry(source); !allowed) co_return fail(allowed.error());
  if (auto allowed = confined_entry(target); !allowed) co_return fail(allowed.error());
  if (auto checked = check_transfer(source, target); !checked) co_return fail(checked.error());
  for (const auto& rest : files_under(source)) {
    auto node = files_.extract(source + rest);
    node.key() = target + rest;
    files_.insert(std::move(node));
  }
  for (const auto& rest : directories_under(source)) {
    directories_.erase(source + rest);
    directories_.insert(target + rest);
  }
  co_return Result<void>{};
}

Task<Result<void>> SimHost::copy_path(std::string from, std::string to) {
  const std::string source = resolve(from);
  const std::string target = resolve(to);
  if (auto allowed = confined(source); !allowed) co_return fail(allowed.error());
  for (const auto& excluded : excluded_) {
    if (path_within(source, excluded)) {
      co_return fail(ErrorCode::permission_denied,
                     source + " holds the daemon's own data, which it does not copy");
    }
  }
  if (auto allowed = confined_entry(target); !allowed) co_return fail(allowed.error());
  if (auto checked = check_transfer(source, target); !checked) co_return fail(checked.error());
  for (const auto& rest : files_under(source)) files_[target + rest] = files_.at(source + rest);
  for (const auto& rest : directories_under(source)) directories_.insert(target + rest);
  if (is_directory(source)) directories_.insert(target);
  co_return Result<void>{};
}

}  // namespace reliant::sim
