// Reading web/dist: every file under it (bounded), with its content type by extension.
#include "app/web_files.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace reliant {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kWebBytesMax = 64u << 20;  // a bundle is a few MB; this is a mistake
constexpr std::size_t kWebFilesMax = 2'000;

std::string content_type_of(const fs::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string executable_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

// Candidates, first found wins: the flag or variable, then an install, then the source tree.
std::vector<fs::path> candidates(const std::string& dir) {
  if (!dir.empty()) return {fs::path(dir)};
  std::vector<fs::path> out;
  if (const char* env = std::getenv("RELIANT_WEB_DIR"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
  }
  const fs::path exe = executable_dir();
  if (!exe.empty()) {
    out.push_back(exe / ".." / "share" / "reliant" / "web");
    // build/src/app/reliant in a checkout: web/dist beside build/.
    for (fs::path up = exe; up.has_parent_path() && up != up.root_path(); up = up.parent_path()) {
      if (fs::exists(up / "web" / "package.json")) {
        out.push_back(up / "web" / "dist");
        break;
      }
    }
  }
  return out;
}

const char* kNotBuilt =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Reliant</title></head>"
    "<body><h1>The web app is not built</h1><p>Run <code>tools/setup.sh</code> (it builds "
    "<code>web/dist</code>), or start the server with <code>--web-dir DIR</code>.</p>"
    "<p>The REST API is at <code>/api/v1</code>.</p></body></html>";

}  // namespace

Result<LoadedWeb> load_web_assets(const std::string& dir) {
  for (const fs::path& root : candidates(dir)) {
    std::error_code ec;
    if (!fs::exists(root / "index.html", ec)) continue;
    LoadedWeb out;
    out.dir = fs::weakly_canonical(root, ec).string();
    std::uintmax_t total = 0;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      if (out.assets.size() >= kWebFilesMax || (total += it->file_size(ec)) > kWebBytesMax) {
        return fail(ErrorCode::resource_exhausted,
                    root.string() + " holds more files than a web app's build: not served");
      }
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      const std::string relative = "/" + fs::relative(it->path(), root, ec).generic_string();
      api::WebAsset asset;
      asset.content_type = content_type_of(it->path());
      asset.body = bytes.str();
      asset.immutable = relative.rfind("/assets/", 0) == 0;
      out.assets.emplace(relative, std::move(asset));
    }
    if (ec)
      return fail(ErrorCode::unavailable, "cannot read " + root.string() + ": " + ec.message());
    return out;
  }
  if (!dir.empty()) {
    return fail(ErrorCode::invalid_argument, "--web-dir " + dir + " holds no index.html");
  }
  LoadedWeb out;
  out.assets.emplace("/index.html", api::WebAsset{"text/html; charset=utf-8", kNotBuilt, false});
  return out;
}

}  // namespace reliant
