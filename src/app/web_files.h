// The web app's built files (web/dist), read into memory for the api to serve at /: from
// --web-dir or RELIANT_WEB_DIR, else beside the binary (<prefix>/share/reliant/web) or in the
// source tree it was built from (web/dist). None found: a page that says how to build them.
#pragma once

#include <string>

#include "base/result.h"
#include "services/api/web_assets.h"

namespace reliant {

// Where the files were found ("" when they were not), and the files.
struct LoadedWeb {
  std::string dir;
  api::WebAssets assets;
};

// `dir` empty: the usual places. A named directory that holds no index.html is an error.
Result<LoadedWeb> load_web_assets(const std::string& dir);

}  // namespace reliant
