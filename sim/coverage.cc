// Coverage counting, its one-line encoding between a sweep's child and parent, and its table.
#include "sim/coverage.h"

#include <cstdio>
#include <cstdlib>

namespace reliant::sim {

void Coverage::hit(std::string_view name, std::uint64_t times) {
  if (times == 0) return;
  auto it = counts_.find(name);
  if (it == counts_.end()) it = counts_.emplace(std::string(name), 0).first;
  it->second += times;
}

std::uint64_t Coverage::count(std::string_view name) const {
  const auto it = counts_.find(name);
  return it == counts_.end() ? 0 : it->second;
}

std::string Coverage::encode() const {
  std::string out;
  for (const auto& [name, n] : counts_) {
    if (!out.empty()) out += ' ';
    out += name + "=" + std::to_string(n);
  }
  return out;
}

Coverage Coverage::decode(std::string_view text) {
  Coverage coverage;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find(' '), text.size());
    const std::string_view item = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::size_t eq = item.rfind('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string count(item.substr(eq + 1));
    coverage.hit(item.substr(0, eq), std::strtoull(count.c_str(), nullptr, 10));
  }
  return coverage;
}

void SweepCoverage::add(const Coverage& run) {
  ++runs;
  for (const auto& [name, n] : run.counts()) {
    total[name] += n;
    seeds[name] += 1;
  }
}

std::set<std::string> SweepCoverage::never_fired(const std::set<std::string>& declared) const {
  std::set<std::string> missing;
  for (const auto& name : declared) {
    if (!total.contains(name)) missing.insert(name);
  }
  return missing;
}

std::string SweepCoverage::table(const std::set<std::string>& declared) const {
  std::string out = "coverage over " + std::to_string(runs) + " seeds:\n";
  char line[192];
  std::snprintf(line, sizeof line, "  %-44s %12s %8s\n", "name", "hits", "seeds");
  out += line;
  auto row = [&](const std::string& name, const char* mark) {
    const auto t = total.find(name);
    const auto s = seeds.find(name);
    std::snprintf(line, sizeof line, "  %-44s %12llu %8llu%s\n", name.c_str(),
                  static_cast<unsigned long long>(t == total.end() ? 0 : t->second),
                  static_cast<unsigned long long>(s == seeds.end() ? 0 : s->second), mark);
    out += line;
  };
  for (const auto& name : declared) {
    row(name, total.contains(name) ? "" : "   <- declared, never fired");
  }
  for (const auto& [name, n] : total) {
    if (!declared.contains(name)) row(name, "");
  }
  return out;
}

}  // namespace reliant::sim
