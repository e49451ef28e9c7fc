// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: command definitions as Connect's user API or a
// printer's INFO sends them (ParseCommandDefinitions), and the check of
// commands against them (ValidateCommand). The input is two JSON texts
// separated by a newline: the definitions, then the kwargs of a command.
// Invariants: no crash or sanitizer report; what parses goes to JSON that
// parses again to the same JSON; a kwargs object that passes keeps every
// key it had, and gains only arguments that have a default.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/commands.h"
#include "prusaconnect/json.h"

namespace pc = prusaconnect;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t newline = text.find('\n');
  pc::StatusOr<pc::Json> json = pc::Json::Parse(text.substr(0, newline));
  if (!json.ok()) return 0;
  pc::StatusOr<std::vector<pc::CommandDefinition>> defs = pc::ParseCommandDefinitions(*json);
  if (!defs.ok()) return 0;
  pc::Json dumped = pc::ToJson(*defs);
  pc::StatusOr<std::vector<pc::CommandDefinition>> again = pc::ParseCommandDefinitions(dumped);
  if (!again.ok() || pc::ToJson(*again) != dumped) std::abort();
  pc::Json kwargs;
  if (newline != std::string_view::npos) {
    pc::StatusOr<pc::Json> k = pc::Json::Parse(text.substr(newline + 1));
    if (k.ok()) kwargs = *k;
  }
  for (const pc::CommandDefinition& d : *defs) {
    for (int s = 0; s <= static_cast<int>(pc::State::READY); ++s) {
      for (bool strict : {false, true}) {
        pc::Json checked = kwargs;
        pc::ValidationOptions o;
        o.refuse_unknown_arguments = strict;
        pc::Status status = pc::ValidateCommand(d, &checked, static_cast<pc::State>(s), o);
        if (!status.ok()) continue;
        if (!checked.is_object()) std::abort();
        if (kwargs.is_object()) {
          for (const pc::Json::Member& m : kwargs.as_object()) {
            if (!checked.contains(m.key)) std::abort();
          }
        }
        for (const pc::Json::Member& m : checked.as_object()) {
          if (kwargs.is_object() && kwargs.contains(m.key)) continue;
          const pc::CommandArgument* a = d.find_arg(m.key);
          if (a == nullptr || a->default_value.is_null()) std::abort();
        }
      }
    }
  }
  return 0;
}
