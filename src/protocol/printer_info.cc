// Copyright 2026 The libprusaconnect Authors.
#include "protocol/printer_info.h"

#ifndef PRUSACONNECT_VERSION
#define PRUSACONNECT_VERSION "0.0.0"
#endif

namespace prusaconnect::internal {

const char kUserAgent[] = "Prusa-Connect-SDK-Printer/0.8.1 libprusaconnect/" PRUSACONNECT_VERSION;

Status PrinterInfo::SetType(PrinterType t) {
  if (type) return FailedPreconditionError("Printer type is already set.");
  type = t;
  return Status();
}

Status PrinterInfo::SetSn(const std::string& s) {
  if (!sn.empty()) return FailedPreconditionError("Serial number is already set.");
  sn = s;
  return Status();
}

Status PrinterInfo::SetFingerprint(const std::string& f) {
  if (!fingerprint.empty()) return FailedPreconditionError("Fingerprint is already set.");
  fingerprint = f;
  return Status();
}

InfoInput PrinterInfo::Input(const Json& supported_commands) const {
  InfoInput in;
  in.type = type;
  in.firmware = firmware;
  in.network_info = network_info;
  in.api_key = api_key;
  in.sn = sn;
  in.fingerprint = fingerprint;
  in.mbl = mbl;
  in.has_mbl = has_mbl;
  in.sheet_settings = sheets;
  in.has_sheet_settings = has_sheets;
  in.active_sheet = active_sheet;
  in.mmu_supported = mmu_supported;
  in.mmu_enabled = mmu_enabled;
  in.mmu_fw = mmu_fw;
  in.mmu_type = mmu_type;
  in.extra = extra;
  in.supported_commands = supported_commands;
  return in;
}

HeaderList PrinterInfo::Headers(const std::string& timestamp, const std::string& token,
                                bool clock_adjusted) const {
  HeaderList h;
  h.reserve(8);
  if (!fingerprint.empty()) h.emplace_back("Fingerprint", fingerprint);
  h.emplace_back("Timestamp", timestamp);
  h.emplace_back("User-Agent", kUserAgent);
  h.emplace_back("User-Agent-Printer", type ? type->ToString() : "None");
  const std::string& version = !software.empty() ? software : firmware;
  h.emplace_back("User-Agent-Version", version.empty() ? "None" : version);
  if (!token.empty()) h.emplace_back("Token", token);
  if (clock_adjusted) h.emplace_back("Clock-Adjusted", "1");
  return h;
}

std::string PrinterInfo::RegisterBody() const {
  Json body = Json::MakeObject();
  body.set("sn", sn.empty() ? Json() : Json(sn));
  body.set("fingerprint", fingerprint.empty() ? Json() : Json(fingerprint));
  body.set("printer_type", type ? type->ToString() : "None");
  body.set("firmware", firmware.empty() ? Json() : Json(firmware));
  return body.Dump();
}

}  // namespace prusaconnect::internal
