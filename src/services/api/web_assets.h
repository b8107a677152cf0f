// The web app's files as the api serves them at / (reliant monolith, reliant server api): held
// in memory, read at start by the binary (app/web_files.h), since components read no files. A
// path the app draws itself (/chats/abc: no file extension) gets index.html; every HTML answer
// carries a Content-Security-Policy that allows only this origin's scripts, styles and
// connections, and no framing.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "runtime/http.h"

namespace reliant::api {

struct WebAsset {
  std::string content_type;
  std::string body;
  bool immutable = false;  // a content-hashed name (assets/…): cached for a year
};
using WebAssets = std::map<std::string, WebAsset, std::less<>>;  // by path: "/index.html"

// Whether `path` is the app's rather than the API's (/api/, /cli/, /reliant.…, /health).
bool is_web_path(const std::string& path);
// The answer to a GET or HEAD of a web path; nullopt for other methods and paths.
std::optional<HttpResponse> serve_web(const WebAssets& assets, const HttpRequest& request);

}  // namespace reliant::api
