// Copyright 2026 The libprusaconnect Authors.
#include "protocol/render.h"

#include <cmath>
#include <limits>
#include <utility>

#include "util/json_writer.h"

namespace prusaconnect::internal {

namespace {

void AppendKey(const char* key, std::string* out) {
  out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
}

}  // namespace

// Written directly rather than as a Json payload: `data` (for SEND_INFO the
// whole file tree) is neither copied nor filtered into a new Json; nulls are
// skipped while writing. Same bytes as building the payload object and
// dumping it (render_test.cc).
std::string RenderEvent(Event event, Source source, const EventFields& fields, const Json& data) {
  std::string out;
  AppendEventHead(event, source, data, nullptr, &out);
  AppendEventTail(fields, &out);
  return out;
}

void AppendEventHead(Event event, Source source, const Json& data, const JsonSplice* splice,
                     std::string* out) {
  out->append(R"({"event":)");
  AppendJsonString(ToString(event), out);
  AppendKey("source", out);
  AppendJsonString(ToString(source), out);
  AppendKey("data", out);
  if (!data.is_object()) {
    out->append("{}");
  } else if (splice != nullptr) {
    AppendJson(data, /*skip_nulls=*/true, *splice, out);
  } else {
    AppendJson(data, /*skip_nulls=*/true, out);
  }
}

void AppendEventTail(const EventFields& fields, std::string* out) {
  const std::pair<const char*, const std::optional<int64_t>*> ids[] = {
      {"command_id", &fields.command_id},
      {"job_id", &fields.job_id},
      {"transfer_id", &fields.transfer_id},
      {nullptr, nullptr},  // reason goes here
      {"dialog_id", &fields.dialog_id}};
  for (const auto& [key, value] : ids) {
    if (key == nullptr) {
      if (fields.reason && !fields.reason->empty()) {
        AppendKey("reason", out);
        AppendJsonString(*fields.reason, out);
      }
      continue;
    }
    if (value->value_or(0) != 0) {
      AppendKey(key, out);
      AppendJsonInt(**value, out);
    }
  }
  if (fields.state) {
    AppendKey("state", out);
    AppendJsonString(ToString(*fields.state), out);
  }
  out->push_back('}');
}

// What `fields.WithoutNulls()`, erase("state"), set("command_id"),
// set("job_id") and set("state") would make of the payload object, kept as
// references to the caller's values and written once (no copy of `fields`).
// set() replaces the first member of that key in place, erase() removes the
// first one, exactly as Json does.
std::string RenderTelemetry(const Json& fields, State state, std::optional<int64_t> command_id,
                            std::optional<int64_t> job_id, bool initialised, const Json& transfer) {
  struct Item {
    std::string_view key;
    const Json* value;  // nullptr: `number` or, for "state", the state name
    int64_t number;
  };
  std::vector<Item> items;
  if (initialised && fields.is_object()) {
    items.reserve(fields.size() + 3);
    for (const Json::Member& m : fields.as_object()) {
      if (!m.value.is_null()) items.push_back(Item{m.key, &m.value, 0});
    }
    for (auto it = items.begin(); it != items.end(); ++it) {
      if (it->key == "state") {
        items.erase(it);
        break;
      }
    }
  }
  auto set = [&items](std::string_view key, const Json* value, int64_t number) {
    for (Item& item : items) {
      if (item.key == key) {
        item.value = value;
        item.number = number;
        return;
      }
    }
    items.push_back(Item{key, value, number});
  };
  if (initialised) {
    if (command_id) set("command_id", nullptr, *command_id);
    if (job_id.value_or(0) != 0) set("job_id", nullptr, *job_id);
    if (transfer.is_object()) {
      for (const Json::Member& m : transfer.as_object()) {
        if (!m.value.is_null()) set(m.key, &m.value, 0);
      }
    }
  }
  set("state", nullptr, 0);
  std::string out;
  out.reserve(64 + 24 * items.size());
  out.push_back('{');
  bool first = true;
  for (const Item& item : items) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(item.key, &out);
    out.push_back(':');
    if (item.value != nullptr) {
      AppendJson(*item.value, /*skip_nulls=*/true, &out);
    } else if (item.key == "state") {
      AppendJsonString(ToString(state), &out);
    } else {
      AppendJsonInt(item.number, &out);
    }
  }
  out.push_back('}');
  return out;
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
  // Beyond this the int64 cast below would be undefined (year 2.9e9).
  if (seconds > 9e16) seconds = 9e16;
  auto tenths = static_cast<int64_t>(std::floor(seconds * 10.0 + 1e-6));
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

Json EmptyLegacyTree() {
  return Json::MakeObject(
      {{"type", "DIR"}, {"name", "/"}, {"read_only", true}, {"children", Json::MakeArray()}});
}

Json BuildInfo(InfoInput in) {
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
  info.set("files", in.files.is_null() ? EmptyLegacyTree() : std::move(in.files));
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
  if (!in.supported_commands.is_null()) {
    info.set("supported_commands", std::move(in.supported_commands));
  }
  if (in.extra.is_object()) {
    for (const Json::Member& m : in.extra.as_object()) {
      if (!info.contains(m.key)) info.set(m.key, m.value);
    }
  }
  return info;
}

}  // namespace prusaconnect::internal
