// The version string every binary reports.
#pragma once

#include <string>

namespace reliant {
std::string version_string();
}
