// Copyright 2026 The libprusaconnect Authors.
#include "protocol/render.h"

#include <cmath>
#include <limits>

namespace prusaconnect::internal {

std::string RenderEvent(Event event, Source source, const EventFields& fields, const Json& data) {
  Json payload = Json::MakeObject();
  payload.set("event", ToString(event));
  payload.set("source", ToString(source));
  payload.set("data", data.is_object() ? data.WithoutNulls() : Json::MakeObject());
  if (fields.command_id && *fields.command_id != 0) payload.set("command_id", *fields.command_id);
  if (fields.job_id && *fields.job_id != 0) payload.set("job_id", *fields.job_id);
  if (fields.transfer_id && *fields.transfer_id != 0) {
    payload.set("transfer_id", *fields.transfer_id);
  }
  if (fields.reason && !fields.reason->empty()) payload.set("reason", *fields.reason);
  if (fields.dialog_id && *fields.dialog_id != 0) payload.set("dialog_id", *fields.dialog_id);
  if (fields.state) payload.set("state", ToString(*fields.state));
  return payload.Dump();
}

std::string RenderTelemetry(const Json& fields, State state, std::optional<int64_t> command_id,
                            std::optional<int64_t> job_id, bool initialised, const Json& transfer) {
  Json payload = Json::MakeObject();
  if (initialised) {
    payload = fields.is_object() ? fields.WithoutNulls() : Json::MakeObject();
    payload.erase("state");
    if (command_id) payload.set("command_id", *command_id);
    if (job_id && *job_id != 0) payload.set("job_id", *job_id);
    if (transfer.is_object()) {
      for (const Json::Member& m : transfer.as_object()) {
        if (!m.value.is_null()) payload.set(m.key, m.value);
      }
    }
  }
  payload.set("state", ToString(state));
  return payload.Dump();
}

std::optional<int64_t> ParseCommandId(std::string_view text) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  // Magnitude accumulated as unsigned so that INT64_MIN parses too.
  uint64_t value = 0;
  constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
  bool prev_digit = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') {
      // Only between two digits.
      if (!prev_digit || i + 1 >= text.size() || text[i + 1] < '0' || text[i + 1] > '9') {
        return std::nullopt;
      }
      prev_digit = false;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kLimit) return std::nullopt;
    prev_digit = true;
  }
  if (!negative && value == kLimit) return std::nullopt;
  if (negative) return static_cast<int64_t>(0 - value);
  return static_cast<int64_t>(value);
}

std::string FormatSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  auto tenths = static_cast<int64_t>(std::floor(seconds * 10.0 + 1e-6));
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

Json EmptyLegacyTree() {
  return Json::MakeObject(
      {{"type", "DIR"}, {"name", "/"}, {"read_only", true}, {"children", Json::MakeArray()}});
}

Json BuildInfo(const InfoInput& in) {
  Json info = Json::MakeObject();
  if (in.type) {
    info.set("type", in.type->type());
    info.set("version", in.type->version());
    info.set("subversion", in.type->subversion());
  }
  if (!in.firmware.empty()) info.set("firmware", in.firmware);
  info.set("sdk", SDK_VERSION);
  Json net = Json::MakeObject();
  const NetworkInfo& n = in.network_info;
  const std::pair<const char*, const std::string*> net_fields[] = {
      {"lan_mac", &n.lan_mac},     {"lan_ipv4", &n.lan_ipv4},   {"lan_ipv6", &n.lan_ipv6},
      {"wifi_mac", &n.wifi_mac},   {"wifi_ipv4", &n.wifi_ipv4}, {"wifi_ipv6", &n.wifi_ipv6},
      {"wifi_ssid", &n.wifi_ssid}, {"hostname", &n.hostname},   {"username", &n.username},
      {"digest", &n.digest}};
  for (const auto& [key, value] : net_fields) {
    if (!value->empty()) net.set(key, *value);
  }
  info.set("network_info", std::move(net));
  if (!in.api_key.empty()) info.set("api_key", in.api_key);
  info.set("files", in.files.is_null() ? EmptyLegacyTree() : in.files);
  if (!in.sn.empty()) info.set("sn", in.sn);
  if (!in.fingerprint.empty()) info.set("fingerprint", in.fingerprint);
  if (in.has_mbl) {
    Json mbl = Json::MakeArray();
    for (double v : in.mbl) mbl.push_back(v);
    info.set("mbl", std::move(mbl));
  }
  if (in.has_sheet_settings) {
    Json sheets = Json::MakeArray();
    for (const SheetSettings& s : in.sheet_settings) {
      sheets.push_back(Json::MakeObject({{"name", s.name}, {"z_offset", s.z_offset}}));
    }
    info.set("sheet_settings", std::move(sheets));
  }
  if (in.active_sheet) info.set("active_sheet", *in.active_sheet);
  if (in.mmu_supported) {
    Json mmu = Json::MakeObject({{"enabled", in.mmu_enabled}});
    if (!in.mmu_fw.empty()) mmu.set("version", in.mmu_fw);
    info.set("mmu", std::move(mmu));
    if (in.mmu_type && in.mmu_enabled) info.set("slots", MmuSlotCount(*in.mmu_type));
  }
  if (in.extra.is_object()) {
    for (const Json::Member& m : in.extra.as_object()) {
      if (!info.contains(m.key)) info.set(m.key, m.value);
    }
  }
  return info;
}

}  // namespace prusaconnect::internal
