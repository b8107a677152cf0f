// The search tools, glob and grep, built on Host::list_directory, stat and search_file so that
// they behave the same on every host.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/glob_pattern.h"
#include "core/line_search.h"
#include "core/path.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {

namespace {

constexpr std::size_t kListingsMax = 20'000;           // directories one search may list
constexpr std::size_t kFilesMax = 100'000;             // files one search may collect
constexpr std::size_t kGlobResultsMax = 1'000;         // paths glob shows
constexpr std::uint64_t kGrepFileBytesMax = 10 << 20;  // larger files are skipped
// What one grep reads in all: a search over a whole system tree stops here and says so.
constexpr std::uint64_t kGrepBytesMax = 256ull << 20;
// What one grep may spend matching in all; a file gets what is left. The host matches off the
// executor, so this bounds how long a pattern keeps a file thread, not the executor.
constexpr Duration kGrepTimeMax = seconds(60);

bool hidden(std::string_view name) { return !name.empty() && name.front() == '.'; }

// Lists directories through the host, once each, and stops at kListingsMax.
class Lister {
 public:
  explicit Lister(Host& host) : host_(host) {}

  // Null when `dir` cannot be listed (absent, not a directory) or the budget is spent.
  Task<const std::vector<FileEntry>*> list(std::string dir) {
    auto it = cache_.find(dir);
    if (it != cache_.end()) co_return it->second.ok ? &it->second.entries : nullptr;
    if (listings_ >= kListingsMax) {
      exhausted_ = true;
      co_return nullptr;
    }
    ++listings_;
    Task<Result<std::vector<FileEntry>>> task = host_.list_directory(dir);
    Result<std::vector<FileEntry>> entries = co_await task;
    Listing& listing = cache_[dir];
    listing.ok = entries.has_value();
    if (entries) listing.entries = std::move(*entries);
    co_return listing.ok ? &listing.entries : nullptr;
  }
  bool exhausted() const { return exhausted_; }

 private:
  struct Listing {
    bool ok = false;
    std::vector<FileEntry> entries;
  };
  Host& host_;
  std::map<std::string, Listing> cache_;
  std::size_t listings_ = 0;
  bool exhausted_ = false;
};

// Checks that `path` exists and is a directory; a tool result on failure.
Task<std::optional<ToolResult>> require_directory(ToolContext& ctx, std::string path,
                                                  std::string what) {
  Task<Result<FileEntry>> stat_task = ctx.host.stat(path);
  Result<FileEntry> entry = co_await stat_task;
  if (!entry) co_return host_failure(entry.error(), what);
  if (!entry->is_directory) {
    co_return tool_failure(tool_error::invalid_input, what + ": not a directory");
  }
  co_return std::nullopt;
}

class GlobTool final : public Tool {
 public:
  std::string_view name() const override { return "glob"; }
  ToolTags tags() const override { return {.read_only = true, .search = true}; }
  std::string_view description() const override {
    return "Finds files whose paths match a glob pattern, sorted by path. `*` and `?` match "
           "within one path segment, `**` matches any number of directories, `[a-z]` a class "
           "and `{a,b}` alternatives (e.g. \"src/**/*.{h,cc}\"). Hidden files and directories "
           "match only when the pattern names them with a leading '.'.";
  }
  Json input_schema() const override {
    return {{"type", "object"},
            {"properties",
             {{"pattern", {{"type", "string"}, {"description", "The glob pattern."}}},
              {"path",
               {{"type", "string"},
                {"description", "Directory to search in (default: the working directory)."}}}}},
            {"required", {"pattern"}},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto pattern = required_string(input, "pattern");
    if (!pattern) co_return invalid_input(pattern.error());
    if (pattern->empty()) {
      co_return tool_failure(tool_error::invalid_input, "field \"pattern\" is empty");
    }
    auto given = optional_string(input, "path");
    if (!given) co_return invalid_input(given.error());
    auto patterns = expand_glob_braces(*pattern);
    if (!patterns) {
      co_return tool_failure(tool_error::invalid_input, "invalid glob pattern \"" + *pattern +
                                                            "\": " + patterns.error().message);
    }
    const std::string root = resolve_input_path(ctx, given->value_or(""));
    const std::string shown_root = shown_path(ctx, root);
    Task<std::optional<ToolResult>> check = require_directory(ctx, root, "glob " + shown_root);
    std::optional<ToolResult> bad_root = co_await check;
    if (bad_root) co_return std::move(*bad_root);

    Lister lister(ctx.host);
    std::set<std::string> found;
    bool too_many = false;
    for (const auto& one : *patterns) {
      Task<bool> walk = collect(ctx, lister, root, one, found);
      const bool complete = co_await walk;
      if (!complete) {
        too_many = true;
        break;
      }
    }
    Json metadata = {{"matches", found.size()}, {"root", root}};
    if (found.empty()) {
      std::string content = "no files match \"" + *pattern + "\" under " + shown_root;
      if (lister.exhausted()) content += " (search stopped after listing 20000 directories)";
      co_return tool_success(std::move(content), std::move(metadata));
    }
    std::string out;
    std::size_t listed = 0;
    for (const auto& path : found) {
      if (listed == kGlobResultsMax) break;
      append_line(out, shown_path(ctx, path));
      ++listed;
    }
    if (found.size() > listed) {
      append_line(out, "[" + std::to_string(found.size() - listed) +
                           " more matches not shown; use a narrower pattern]");
    }
    if (too_many || lister.exhausted()) {
      append_line(out, "[search stopped early: too many files or directories]");
    }
    metadata["truncated"] = found.size() > listed || too_many || lister.exhausted();
    co_return tool_success(cap_output(std::move(out), ctx.output_limit_bytes), std::move(metadata));
  }

 private:
  // Adds the files under `root` matching the brace-free `pattern` to `found`. Returns false
  // when it stopped at kFilesMax.
  static Task<bool> collect(ToolContext& ctx, Lister& lister, std::string root, std::string pattern,
                            std::set<std::string>& found) {
    std::string base = is_absolute_path(pattern) ? std::string("/") : root;
    std::vector<std::string> segments;
    for (auto segment : glob_split(pattern)) segments.emplace_back(segment);
    // "dir/**" means every file below dir.
    if (segments.empty() || segments.back() == "**") segments.emplace_back("*");
    const std::size_t n = segments.size();

    std::vector<std::pair<std::string, std::size_t>> stack{{base, 0}};
    std::set<std::pair<std::string, std::size_t>> visited;
    while (!stack.empty()) {
      // Plain locals rather than structured bindings across suspension points (GCC 12:
      // docs/architecture.md §10).
      std::string dir = std::move(stack.back().first);
      const std::size_t i = stack.back().second;
      stack.pop_back();
      if (!visited.emplace(dir, i).second) continue;
      const std::string& segment = segments[i];
      const bool last = i + 1 == n;
      if (segment == "**") {
        stack.emplace_back(dir, i + 1);  // zero directories
        Task<const std::vector<FileEntry>*> list_task = lister.list(dir);
        const std::vector<FileEntry>* entries = co_await list_task;
        if (entries == nullptr) continue;
        // Pushed in reverse so the walk goes in name order (results are sorted anyway).
        for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
          // Never through links (no cycles) nor hidden directories (.git).
          if (it->is_directory && !it->is_symlink && !hidden(file_name(it->path))) {
            stack.emplace_back(it->path, i);
          }
        }
        continue;
      }
      if (!glob_has_wildcard(segment)) {
        const std::string child = normalize_path(join_path(dir, glob_unescape(segment)));
        if (!last) {
          stack.emplace_back(child, i + 1);
          continue;
        }
        Task<Result<FileEntry>> stat_task = ctx.host.stat(child);
        Result<FileEntry> entry = co_await stat_task;
        if (entry && !entry->is_directory) found.insert(child);
        if (found.size() >= kFilesMax) co_return false;
        continue;
      }
      Task<const std::vector<FileEntry>*> list_task = lister.list(dir);
      const std::vector<FileEntry>* entries = co_await list_task;
      if (entries == nullptr) continue;
      for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
        if (!glob_match_segment(segment, file_name(it->path))) continue;
        if (last) {
          if (!it->is_directory) found.insert(it->path);
          if (found.size() >= kFilesMax) co_return false;
        } else if (it->is_directory) {
          stack.emplace_back(it->path, i + 1);
        }
      }
    }
    co_return true;
  }
};

class GrepTool final : public Tool {
 public:
  std::string_view name() const override { return "grep"; }
  ToolTags tags() const override { return {.read_only = true, .search = true}; }
  std::string_view description() const override {
    return "Searches file contents for a regular expression (RE2 syntax, as in Go and "
           "ripgrep: no backreferences or lookaround) and returns matching lines as "
           "path:line:text. path is a file or a directory searched "
           "recursively (default: the working directory); glob filters the files searched "
           "(e.g. \"*.cc\", \"src/**/*.{h,cc}\"). Hidden, binary and very large files are "
           "skipped.";
  }
  Json input_schema() const override {
    return {{"type", "object"},
            {"properties",
             {{"pattern", {{"type", "string"}, {"description", "The regular expression."}}},
              {"path",
               {{"type", "string"},
                {"description", "File or directory to search (default: working directory)."}}},
              {"glob", {{"type", "string"}, {"description", "Only search files matching this."}}},
              {"-i", {{"type", "boolean"}, {"description", "Ignore case."}}}}},
            {"required", {"pattern"}},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto pattern = required_string(input, "pattern");
    if (!pattern) co_return invalid_input(pattern.error());
    if (pattern->empty()) {
      co_return tool_failure(tool_error::invalid_input, "field \"pattern\" is empty");
    }
    auto given = optional_string(input, "path");
    if (!given) co_return invalid_input(given.error());
    auto glob = optional_string(input, "glob");
    if (!glob) co_return invalid_input(glob.error());
    auto ignore_case = optional_bool(input, "-i", false);
    if (!ignore_case) co_return invalid_input(ignore_case.error());

    auto matcher = make_regex_matcher(*pattern, *ignore_case);
    if (!matcher) {
      co_return tool_failure(tool_error::invalid_input, "invalid regular expression \"" + *pattern +
                                                            "\": " + matcher.error().message);
    }
    std::vector<std::string> filters;
    if (*glob && !(*glob)->empty()) {
      auto expanded = expand_glob_braces(**glob);
      if (!expanded) {
        co_return tool_failure(tool_error::invalid_input,
                               "invalid glob \"" + **glob + "\": " + expanded.error().message);
      }
      filters = std::move(*expanded);
    }

    const std::string root = resolve_input_path(ctx, given->value_or(""));
    const std::string shown_root = shown_path(ctx, root);
    Task<Result<FileEntry>> stat_task = ctx.host.stat(root);
    Result<FileEntry> root_entry = co_await stat_task;
    if (!root_entry) co_return host_failure(root_entry.error(), "grep " + shown_root);

    std::vector<FileEntry> files;
    bool walk_complete = true;
    if (root_entry->is_directory) {
      Task<bool> walk = collect_files(ctx.host, root, filters, files);
      walk_complete = co_await walk;
    } else {
      FileEntry file = *root_entry;
      file.path = root;
      files.push_back(std::move(file));
    }

    std::string out;
    std::uint64_t matches = 0;
    std::size_t files_with_matches = 0;
    std::size_t searched = 0;
    std::size_t skipped_binary = 0;
    std::size_t skipped_large = 0;
    std::size_t unreadable = 0;
    std::uint64_t bytes_read = 0;
    bool stopped_at_bytes = false;
    bool stopped_at_time = false;
    bool truncated = false;
    const SteadyInstant deadline = ctx.executor.steady_now() + kGrepTimeMax;
    for (const auto& file : files) {
      if (truncated) break;
      if (file.size_bytes > kGrepFileBytesMax) {
        ++skipped_large;
        continue;
      }
      if (bytes_read + file.size_bytes > kGrepBytesMax) {
        stopped_at_bytes = true;
        break;
      }
      FileSearchLimits limits;
      limits.file_bytes_max = kGrepFileBytesMax;
      limits.time_max = deadline - ctx.executor.steady_now();
      if (limits.time_max <= Duration::zero()) {
        stopped_at_time = true;
        break;
      }
      // The host keeps no more lines than could still fit (each entry is longer than its text).
      if (ctx.output_limit_bytes != 0) {
        limits.shown_bytes_max = std::max<std::size_t>(
            1, ctx.output_limit_bytes - std::min(out.size(), ctx.output_limit_bytes));
      }
      Task<Result<FileSearch>> search_task = ctx.host.search_file(file.path, *matcher, limits);
      Result<FileSearch> found = co_await search_task;
      if (!found) {
        if (found.error().code == ErrorCode::resource_exhausted) {
          ++skipped_large;  // grew since it was listed
        } else if (found.error().code == ErrorCode::timeout) {
          stopped_at_time = true;
          break;
        } else {
          ++unreadable;
        }
        continue;
      }
      bytes_read += found->bytes;
      if (found->binary) {
        ++skipped_binary;
        continue;
      }
      ++searched;
      const std::string shown = shown_path(ctx, file.path);
      for (const MatchedLine& line : found->lines) {
        std::string entry = shown + ":" + std::to_string(line.number) + ":" + line.text;
        if (line.cut) entry += " [...]";
        entry += '\n';
        ++matches;
        if (ctx.output_limit_bytes != 0 && out.size() + entry.size() > ctx.output_limit_bytes) {
          truncated = true;
          break;
        }
        out += entry;
      }
      if (found->stopped) truncated = true;
      if (!found->lines.empty()) ++files_with_matches;
    }

    Json metadata = {
        {"matches", matches},
        {"files_with_matches", files_with_matches},
        {"files_searched", searched},
        {"skipped_binary", skipped_binary},
        {"skipped_large", skipped_large},
        {"unreadable", unreadable},
        {"bytes_read", bytes_read},
        {"truncated", truncated || !walk_complete || stopped_at_bytes || stopped_at_time}};
    if (truncated) {
      append_line(out, "[output truncated: more matches beyond the limit of " +
                           std::to_string(ctx.output_limit_bytes) +
                           " bytes; narrow the pattern, path or glob]");
    }
    if (!walk_complete) {
      append_line(out, "[search stopped early: too many files or directories]");
    }
    if (stopped_at_bytes) {
      append_line(out, "[search stopped early: it read " + std::to_string(bytes_read) +
                           " bytes, the most one search reads; narrow the path or glob]");
    }
    if (stopped_at_time) {
      append_line(out, "[search stopped early: it took longer than " +
                           format_duration(kGrepTimeMax) + "; narrow the pattern, path or glob]");
    }
    if (matches == 0) {
      std::string content = "no matches for /" + *pattern + "/ in " + shown_root;
      if (!out.empty()) content += "\n" + out;
      co_return tool_success(std::move(content), std::move(metadata));
    }
    co_return tool_success(std::move(out), std::move(metadata));
  }

 private:
  static bool passes(const std::vector<std::string>& filters, std::string_view root,
                     std::string_view path) {
    if (filters.empty()) return true;
    const std::string relative = display_path(root, path);
    for (const auto& filter : filters) {
      // A filter without '/' matches the file name at any depth ("*.cc"), as in ripgrep.
      const bool by_name = filter.find('/') == std::string::npos;
      if (by_name ? glob_match_segment(filter, file_name(path))
                  : glob_match_path(filter, relative)) {
        return true;
      }
    }
    return false;
  }

  // Every visible file below `root` passing the filters, sorted by path. Returns false when it
  // stopped at a limit.
  static Task<bool> collect_files(Host& host, std::string root,
                                  const std::vector<std::string>& filters,
                                  std::vector<FileEntry>& files) {
    std::vector<std::string> stack{root};
    std::size_t listings = 0;
    bool complete = true;
    while (!stack.empty()) {
      if (listings == kListingsMax || files.size() >= kFilesMax) {
        complete = false;
        break;
      }
      std::string dir = std::move(stack.back());
      stack.pop_back();
      ++listings;
      Task<Result<std::vector<FileEntry>>> list_task = host.list_directory(dir);
      Result<std::vector<FileEntry>> entries = co_await list_task;
      if (!entries) continue;
      for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
        if (hidden(file_name(it->path))) continue;
        if (it->is_directory) {
          if (!it->is_symlink) stack.push_back(it->path);
        } else if (passes(filters, root, it->path)) {
          files.push_back(*it);
        }
      }
    }
    std::sort(files.begin(), files.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    co_return complete;
  }
};

}  // namespace

std::unique_ptr<Tool> make_glob_tool() { return std::make_unique<GlobTool>(); }
std::unique_ptr<Tool> make_grep_tool() { return std::make_unique<GrepTool>(); }

}  // namespace reliant::daemon
