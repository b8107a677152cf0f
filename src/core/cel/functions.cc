// The table of CEL's named functions, built once from every group.
#include "core/cel/functions.h"

namespace reliant::cel {

Function find_function(std::string_view name) {
  static const FunctionTable table = [] {
    FunctionTable out;
    add_string_functions(out);
    add_regex_functions(out);
    add_time_functions(out);
    add_reliant_functions(out);
    return out;
  }();
  auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace reliant::cel
