// Equality of two JSON values down to their number types, which nlohmann's operator== ignores
// (unsigned 1 == signed 1 == 1.0 there): for tests that hold two readers of JSON against each
// other.
#pragma once

#include <cmath>
#include <cstddef>

#include <nlohmann/json.hpp>

namespace reliant {

// True when `a` and `b` have the same shape, the same value and the same type at every level
// (an object's keys compared as a set, a double bit for bit apart from NaN, which JSON lacks).
inline bool same_json(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case nlohmann::json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same_json(a[i], b[i])) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        const auto other = b.find(it.key());
        if (other == b.end() || !same_json(*it, *other)) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::number_float: {
      const double x = a.get<double>();
      const double y = b.get<double>();
      return x == y && std::signbit(x) == std::signbit(y);
    }
    default:
      return a == b;
  }
}

}  // namespace reliant
