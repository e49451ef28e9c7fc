// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the bridge's Bambu Lab report handling
// (examples/bridge/bambu_map.h, bambu_ftps.h), fed whatever a printer (or
// anything else on its broker) could publish. The input is a sequence of
// JSON documents separated by newlines; the `print` object of each (or the
// document itself) is merged as a push_status delta (MergeReport) and the
// snapshot is taken after each (BambuSnapshot), the used fields only
// (BambuUsedFields) every other time; each raw line is also read
// as a line of an FTP LIST answer (ParseFtpListLine).
// Invariants: progress is 0..100; a printing or idle snapshot names no
// reason, an ERROR or ATTENTION one names one; fan percentages are
// 0..100; a listed name is not empty, ".", ".." and has no slash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bambu_ftps.h"
#include "bambu_map.h"
#include "prusaconnect/json.h"

namespace {

namespace pc = prusaconnect;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  bridge::BambuView view;
  view.connected = true;
  view.reported = true;
  view.now = 1765116000;
  view.started_file = "a.3mf";
  view.started_subtask = "a";
  size_t start = 0;
  int n = 0;
  while (start <= input.size() && n++ < 64) {
    size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(start, end - start);
    start = end + 1;
    if (std::optional<bridge::FtpEntry> e = bridge::ParseFtpListLine(line, 1765116000)) {
      Check(!e->name.empty() && e->name != "." && e->name != ".." &&
            e->name.find('/') == std::string::npos && e->size >= 0);
    }
    pc::StatusOr<pc::Json> j = pc::Json::Parse(line);
    if (!j.ok()) continue;
    const pc::Json* print = j->find("print");
    pc::Json used = bridge::BambuUsedFields(print != nullptr ? *print : *j);
    Check(used.is_object() && used.size() <= 21);
    bridge::MergeReport(&view.print, n % 2 == 0 ? used : (print != nullptr ? *print : *j));
    bridge::HostSnapshot s = bridge::BambuSnapshot(view);
    if (s.telemetry.progress) Check(*s.telemetry.progress >= 0 && *s.telemetry.progress <= 100);
    if (s.state == bridge::HostState::kPrinting || s.state == bridge::HostState::kIdle) {
      Check(s.reason.empty());
    }
    if (s.state == bridge::HostState::kError || s.state == bridge::HostState::kAttention) {
      Check(!s.reason.empty());
    }
    for (const char* key :
         {"fan_print_percent", "fan_hotend_percent", "fan_aux_percent", "fan_chamber_percent"}) {
      const pc::Json* f = s.telemetry.extra.find(key);
      if (f != nullptr) Check(f->as_int() >= 0 && f->as_int() <= 100);
    }
    (void)bridge::BambuModel(line);
  }
  return 0;
}
