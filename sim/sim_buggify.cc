// Site activation from (seed, site name); firings from the run's own generator.
#include "sim/sim_buggify.h"

namespace reliant::sim {
namespace {

// FNV-1a: a site's name as a number, for the trace and its activation draw.
std::uint64_t fnv(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

SimBuggify::SimBuggify(World& world, bool enabled)
    : world_(world), enabled_(enabled), fires_(world.seed() ^ 0x6275676769667921ull) {}

bool SimBuggify::active(std::string_view site) {
  auto it = active_.find(site);
  if (it == active_.end()) {
    Random draw(world_.seed() ^ fnv(site));
    it = active_.emplace(std::string(site), draw.chance(kSiteActive)).first;
  }
  return it->second;
}

bool SimBuggify::fire(NodeId node, std::string_view site) {
  if (!enabled_ || !active(site) || !fires_.chance(kSiteFires)) return false;
  world_.trace().record(world_.now(), node, "buggify", fnv(site));
  world_.coverage().hit("buggify." + std::string(site));
  return true;
}

void SimBuggify::reached(NodeId node, std::string_view marker) {
  world_.trace().record(world_.now(), node, "sometimes", fnv(marker));
  world_.coverage().hit("sometimes." + std::string(marker));
}

}  // namespace reliant::sim
