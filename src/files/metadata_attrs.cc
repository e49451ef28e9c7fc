// Copyright 2026 The libprusaconnect Authors.
//
// FDMMetaData's attribute tables (which key converts how, the per-tool MMU
// keys) and set_attr(), and the thumbnails a reader collects.
#include "files/metadata_attrs.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "files/pytext.h"

namespace prusaconnect::internal {
namespace {

enum class Conv { kStr, kFloat, kInt, kBool, kJson, kList };

struct MmuAttr {
  const char* name;
  const char* separator;
  Conv type;
  bool sum;  // conversion: sum (else same_or_nothing)
};

// FDMMetaData.MMUAttrs
constexpr MmuAttr kMmuAttrs[] = {
    {"filament used [cm3]", ", ", Conv::kFloat, true},
    {"filament used [mm]", ", ", Conv::kFloat, true},
    {"filament used [g]", ", ", Conv::kFloat, true},
    {"filament cost", ", ", Conv::kFloat, true},
    {"filament_type", ";", Conv::kStr, false},
    {"temperature", ",", Conv::kInt, false},
    {"bed_temperature", ",", Conv::kInt, false},
    {"nozzle_diameter", ",", Conv::kFloat, false},
    {"extruder_colour", ";", Conv::kStr, false},
    {"nozzle_high_flow", ",", Conv::kInt, false},
    {"filament_abrasive", ",", Conv::kInt, false},
};

// FDMMetaData.Attrs (without the MMU ones)
struct Attr {
  const char* name;
  Conv conv;
};
constexpr Attr kFdmAttrs[] = {
    {"estimated printing time (normal mode)", Conv::kStr},
    {"printer_model", Conv::kStr},
    {"layer_height", Conv::kFloat},
    {"fill_density", Conv::kStr},
    {"brim_width", Conv::kInt},
    {"support_material", Conv::kInt},
    {"ironing", Conv::kInt},
    {"quiet_percent_present", Conv::kBool},
    {"quiet_left_present", Conv::kBool},
    {"quiet_change_in_present", Conv::kBool},
    {"normal_percent_present", Conv::kBool},
    {"normal_left_present", Conv::kBool},
    {"normal_change_in_present", Conv::kBool},
    {"layer_info_present", Conv::kBool},
    {"max_layer_z", Conv::kFloat},
    {"objects_info", Conv::kJson},
};

constexpr std::string_view kPerTool = " per tool";

const MmuAttr* FindMmu(std::string_view name) {
  for (const MmuAttr& a : kMmuAttrs) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

// The conversion of an FDM attribute, including the MMU "<name> per tool"
// lists; nullopt for a name gcode-metadata does not keep.
std::optional<Conv> FdmConv(std::string_view name) {
  for (const Attr& a : kFdmAttrs) {
    if (name == a.name) return a.conv;
  }
  if (const MmuAttr* m = FindMmu(name)) return m->type;
  if (name.size() > kPerTool.size() && name.substr(name.size() - kPerTool.size()) == kPerTool &&
      FindMmu(name.substr(0, name.size() - kPerTool.size()))) {
    return Conv::kList;
  }
  return std::nullopt;
}

// conv(value), or nullopt where Python raises ValueError.
std::optional<Json> Convert(const PyVal& v, Conv conv) {
  switch (conv) {
    case Conv::kStr:
      if (v.kind == PyVal::kStr) return Json(std::string(v.s));
      if (v.kind == PyVal::kFloat) return Json(PyFloatRepr(v.d));
      return Json(v.b ? "True" : "False");
    case Conv::kFloat:
      if (v.kind == PyVal::kStr) {
        std::optional<double> d = PyFloat(v.s);
        if (!d) return std::nullopt;
        return Json(*d);
      }
      return Json(v.kind == PyVal::kFloat ? v.d : (v.b ? 1.0 : 0.0));
    case Conv::kInt:
      if (v.kind == PyVal::kStr) {
        std::optional<int64_t> i = PyInt(v.s);
        if (!i) return std::nullopt;
        return Json(*i);
      }
      if (v.kind == PyVal::kFloat) {
        if (!std::isfinite(v.d)) return std::nullopt;
        return Json(static_cast<int64_t>(v.d));
      }
      return Json(v.b ? 1 : 0);
    case Conv::kBool:
      if (v.kind == PyVal::kStr) return Json(!v.s.empty());
      if (v.kind == PyVal::kFloat) return Json(v.d != 0);
      return Json(v.b);
    case Conv::kJson: {
      if (v.kind != PyVal::kStr) return std::nullopt;
      StatusOr<Json> j = Json::Parse(v.s);
      if (!j.ok()) return std::nullopt;
      return *j;
    }
    case Conv::kList: {
      // list(str): one item per character.
      Json list = Json::MakeArray();
      if (v.kind != PyVal::kStr) return std::nullopt;
      for (size_t i = 0; i < v.s.size();) {
        size_t len = 1;
        CodePointAt(v.s, i, &len);
        list.push_back(std::string(v.s.substr(i, len)));
        i += len;
      }
      return list;
    }
  }
  return std::nullopt;
}

bool SameValue(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_double()) return a.as_double() == b.as_double();
  return a == b;
}

void ParseDims(const std::string& dims, int* width, int* height) {
  size_t x = dims.find('x');
  if (x == std::string::npos || x == 0 || x + 1 >= dims.size()) return;
  bool digits = std::all_of(dims.begin(), dims.begin() + static_cast<ptrdiff_t>(x), IsDigit) &&
                std::all_of(dims.begin() + static_cast<ptrdiff_t>(x) + 1, dims.end(), IsDigit);
  if (!digits || x > 6 || dims.size() - x - 1 > 6) return;
  *width = std::stoi(dims.substr(0, x));
  *height = std::stoi(dims.substr(x + 1));
}

}  // namespace

// FDMMetaData.set_attr
void SetFdmAttr(Json* data, std::string_view name, const PyVal& value) {
  if (value.kind == PyVal::kStr && value.s == "\"\"") return;
  if (const MmuAttr* mmu = FindMmu(name)) {
    // MMUAttribute.parse_tools
    std::vector<std::string_view> pieces;
    if (value.kind == PyVal::kStr) {
      std::string_view sep = mmu->separator;
      size_t i = 0;
      for (;;) {
        size_t j = value.s.find(sep, i);
        if (j == std::string_view::npos) {
          pieces.push_back(value.s.substr(i));
          break;
        }
        pieces.push_back(value.s.substr(i, j - i));
        i = j + sep.size();
      }
    }
    Json list = Json::MakeArray();
    if (value.kind == PyVal::kStr) {
      for (std::string_view piece : pieces) {
        std::optional<Json> parsed = Convert(PyVal::Str(piece), mmu->type);
        if (!parsed) return;
        list.push_back(std::move(*parsed));
      }
    } else {
      std::optional<Json> parsed = Convert(value, mmu->type);
      if (!parsed) return;
      list.push_back(std::move(*parsed));
    }
    std::optional<Json> single;
    if (mmu->sum) {
      double total = 0;
      for (const Json& v : list.as_array()) total += v.as_double();
      single = Json(total);
    } else {
      bool same = true;
      for (const Json& v : list.as_array()) same = same && SameValue(v, list[0]);
      if (same) single = list[0];
    }
    if (list.size() > 1) data->set(std::string(name) + std::string(kPerTool), std::move(list));
    if (single) data->set(name, std::move(*single));
    return;
  }
  std::optional<Conv> conv = FdmConv(name);
  if (!conv) return;
  std::optional<Json> converted = Convert(value, *conv);
  if (converted) data->set(name, std::move(*converted));
}

void AddThumbnail(GcodeMetadata* out, std::string key, const std::string& dims,
                  const std::string& format, std::string data) {
  for (Thumbnail& t : out->thumbnails) {
    if (t.key == key) {
      t.data = std::move(data);
      return;
    }
  }
  Thumbnail t;
  t.key = std::move(key);
  t.format = format;
  ParseDims(dims, &t.width, &t.height);
  t.data = std::move(data);
  out->thumbnails.push_back(std::move(t));
}

}  // namespace prusaconnect::internal
