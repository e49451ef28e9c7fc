// Copyright 2026 The libprusaconnect Authors.
//
// PrinterInfo: who the printer is and what SEND_INFO says about it — the
// identity (each part settable once), firmware and software versions,
// network info, mesh bed levelling, sheets, MMU, extra members — and the
// printer API's headers made from it. A value type; its owner locks.
#ifndef PRUSACONNECT_PROTOCOL_PRINTER_INFO_H_
#define PRUSACONNECT_PROTOCOL_PRINTER_INFO_H_

#include <optional>
#include <string>
#include <vector>

#include "protocol/http_types.h"
#include "protocol/render.h"
#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/models.h"
#include "prusaconnect/status.h"

namespace prusaconnect::internal {

// "Prusa-Connect-SDK-Printer/0.8.1 libprusaconnect/<version>".
extern const char kUserAgent[];

struct PrinterInfo {
  std::optional<PrinterType> type;
  std::string sn;
  std::string fingerprint;
  std::string firmware;
  std::string software;  // User-Agent-Version wins over firmware
  NetworkInfo network_info;
  std::string api_key;
  std::vector<double> mbl;
  bool has_mbl = false;
  std::vector<SheetSettings> sheets;
  bool has_sheets = false;
  std::optional<int> active_sheet;
  bool mmu_supported = true;
  bool mmu_enabled = false;
  std::string mmu_fw;
  std::optional<MMUType> mmu_type;
  Json extra;

  // Each identity part can be set once: FailedPrecondition ("Fingerprint is
  // already set.") when it has a value.
  Status SetType(PrinterType t);
  Status SetSn(const std::string& s);
  Status SetFingerprint(const std::string& f);
  // sn, fingerprint and type all set.
  bool initialised() const { return !sn.empty() && !fingerprint.empty() && type.has_value(); }

  // What BuildInfo() takes (without the file tree).
  InfoInput Input(const Json& supported_commands) const;
  // The headers of a printer API request: Fingerprint, Timestamp,
  // User-Agent, User-Agent-Printer, User-Agent-Version, Token (when given),
  // Clock-Adjusted (when `clock_adjusted`).
  HeaderList Headers(const std::string& timestamp, const std::string& token,
                     bool clock_adjusted) const;
  // The body of POST /p/register.
  std::string RegisterBody() const;
};

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_PROTOCOL_PRINTER_INFO_H_
