// Copyright 2026 The libprusaconnect Authors.
//
// G-code from Connect, made fit for a Marlin 2.1 printer behind OctoPrint.
// Connect's controls were written for Prusa firmware; some of what they send
// has a Marlin equivalent, some has none. The table (also in
// docs/octoprint.md):
//
//   Connect sends            Sent to Marlin             Why
//   -----------------------  -------------------------  ---------------------------
//   G80                      G29                        Prusa mesh bed leveling
//   G28 W (any W)            G28 (W removed)            W = "no MBL" is Prusa-only
//   M701 / M702              refused                    Marlin needs FILAMENT_LOAD_
//                                                       UNLOAD_GCODES; most do not
//   M486 ...                 refused                    cancel object needs
//                                                       CANCEL_OBJECTS in Marlin
//   M862.x                   dropped (nothing sent)     Prusa printer checks
//   M220, M221, M104, M109,  as sent                    Marlin implements them
//   M140, M190, M106, M107,
//   G0/G1, G28, M600, ...
//   PRUSA ... (text cmds)    refused                    Prusa-only
//   ; comments, blank lines  removed
//
// Lines are split on '\n' (and the "\\n" Connect sometimes sends escaped).
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_GCODE_TRANSLATE_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_GCODE_TRANSLATE_H_

#include <string>
#include <vector>

namespace octoprint_adapter {

struct GcodeTranslation {
  bool ok = true;
  std::vector<std::string> lines;  // what to send, in order
  std::string reason;              // why it was refused (when !ok)
};

// Translates a whole GCODE command: refused as a whole when any line is.
GcodeTranslation TranslateGcode(const std::string& text);

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_GCODE_TRANSLATE_H_
