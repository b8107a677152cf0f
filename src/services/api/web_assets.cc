// Serving the web app's files: exact paths, the app's own routes as index.html, security headers.
#include "services/api/web_assets.h"

namespace reliant::api {
namespace {

// Only this origin: scripts, styles (xterm sets inline styles), images (data: for icons),
// connections (fetch, EventSource, the terminal WebSocket); never framed.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

bool has_extension(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  return dot != std::string::npos && (slash == std::string::npos || dot > slash);
}

}  // namespace

bool is_web_path(const std::string& path) {
  return !(path.rfind("/api/", 0) == 0 || path.rfind("/cli/", 0) == 0 ||
           path.rfind("/reliant.", 0) == 0 || path == "/health" || path == "/ready");
}

std::optional<HttpResponse> serve_web(const WebAssets& assets, const HttpRequest& request) {
  if ((request.method != "GET" && request.method != "HEAD") || !is_web_path(request.path)) {
    return std::nullopt;
  }
  std::string path = request.path == "/" ? "/index.html" : request.path;
  auto found = assets.find(path);
  if (found == assets.end() && !has_extension(path)) found = assets.find("/index.html");
  HttpResponse response;
  if (found == assets.end()) {
    response.status = 404;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "not found\n";
    return response;
  }
  const WebAsset& asset = found->second;
  response.content_type = asset.content_type;
  response.body = request.method == "HEAD" ? std::string() : asset.body;
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back(
      "Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (asset.content_type.rfind("text/html", 0) == 0) {
    response.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    response.headers.emplace_back("X-Frame-Options", "DENY");
  }
  return response;
}

}  // namespace reliant::api
