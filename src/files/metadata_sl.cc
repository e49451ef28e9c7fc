// Copyright 2026 The libprusaconnect Authors.
//
// SLMetaData: config.json and the thumbnails of an SL1/SL1S/M1 archive,
// read through our central-directory reader (zip.h) with its limits.
#include <algorithm>
#include <cmath>
#include <string>

#include "files/metadata.h"
#include "files/metadata_attrs.h"
#include "files/paths.h"
#include "files/pytext.h"
#include "files/zip.h"

namespace prusaconnect::internal {

namespace {

constexpr uint64_t kMaxZipEntry = 64ull << 20;

enum class SlConv { kIntOfFloat, kFloat, kStr, kInt, kRound2 };

struct SlAttr {
  const char* name;
  SlConv conv;
};
constexpr SlAttr kSlAttrs[] = {
    {"estimated_print_time", SlConv::kIntOfFloat},
    {"layer_height", SlConv::kFloat},
    {"material", SlConv::kStr},
    {"exposure_time", SlConv::kFloat},
    {"exposure_time_first", SlConv::kFloat},
    {"total_layers", SlConv::kInt},
    {"total_height", SlConv::kFloat},
    {"resin_used_ml", SlConv::kRound2},
    {"printer_model", SlConv::kStr},
};

// SLKeys.KeyMapping
std::string_view SlKey(std::string_view key) {
  static constexpr std::pair<std::string_view, std::string_view> kMap[] = {
      {"printTime", "estimated_print_time"},
      {"expTime", "exposure_time"},
      {"expTimeFirst", "exposure_time_first"},
      {"layerHeight", "layer_height"},
      {"materialName", "material"},
      {"printerModel", "printer_model"},
      {"usedMaterial", "resin_used_ml"},
  };
  for (const auto& [from, to] : kMap) {
    if (key == from) return to;
  }
  return key;
}

enum class SlResult { kSet, kSkip, kAbort };

// float(x) of a JSON value: nullopt = ValueError, abort = TypeError.
SlResult SlFloat(const Json& v, double* out) {
  switch (v.type()) {
    case Json::Type::kString: {
      std::optional<double> d = PyFloat(v.as_string());
      if (!d) return SlResult::kSkip;
      *out = *d;
      return SlResult::kSet;
    }
    case Json::Type::kInt:
    case Json::Type::kDouble:
      *out = v.as_double();
      return SlResult::kSet;
    case Json::Type::kBool:
      *out = v.as_bool() ? 1 : 0;
      return SlResult::kSet;
    default:
      return SlResult::kAbort;
  }
}

// int() of a float: ValueError for nan, OverflowError for inf.
SlResult SlTrunc(double d, int64_t* out) {
  if (std::isnan(d)) return SlResult::kSkip;
  if (std::isinf(d)) return SlResult::kAbort;
  if (std::fabs(d) >= 9.2e18) return SlResult::kSkip;  // beyond int64
  *out = static_cast<int64_t>(d);
  return SlResult::kSet;
}

// SLMetaData.set_attr; kAbort where Python raises past the ValueError guard.
SlResult SetSlAttr(Json* data, std::string_view key, const Json& value) {
  if (value.is_null()) return SlResult::kSkip;
  std::string_view name = SlKey(key);
  const SlAttr* attr = nullptr;
  for (const SlAttr& a : kSlAttrs) {
    if (name == a.name) attr = &a;
  }
  if (attr == nullptr) return SlResult::kSkip;
  double d = 0;
  int64_t i = 0;
  SlResult r;
  switch (attr->conv) {
    case SlConv::kStr:
      data->set(name, value.is_string() ? value.as_string() : PyRepr(value));
      return SlResult::kSet;
    case SlConv::kFloat:
    case SlConv::kRound2:
      r = SlFloat(value, &d);
      if (r != SlResult::kSet) return r;
      data->set(name, attr->conv == SlConv::kRound2 ? PyRound2(d) : d);
      return r;
    case SlConv::kIntOfFloat:
      r = SlFloat(value, &d);
      if (r != SlResult::kSet) return r;
      r = SlTrunc(d, &i);
      if (r == SlResult::kSet) data->set(name, i);
      return r;
    case SlConv::kInt:
      if (value.is_string()) {
        std::optional<int64_t> parsed = PyInt(value.as_string());
        if (!parsed) return SlResult::kSkip;
        data->set(name, *parsed);
        return SlResult::kSet;
      }
      if (value.is_int()) {
        data->set(name, value.as_int());
        return SlResult::kSet;
      }
      if (value.is_bool()) {
        data->set(name, value.as_bool() ? 1 : 0);
        return SlResult::kSet;
      }
      if (value.is_double()) {
        r = SlTrunc(value.as_double(), &i);
        if (r == SlResult::kSet) data->set(name, i);
        return r;
      }
      return SlResult::kAbort;
  }
  return SlResult::kSkip;
}

// r".*?(?P<dim>\d+x\d+)\.(?P<format>qoi|jpg|png)" (anchored at the start).
bool MatchSlThumbnail(std::string_view name, std::string* dims, std::string* format) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsDigit(name[i])) continue;
    size_t p = i;
    while (p < name.size() && IsDigit(name[p])) ++p;
    if (p >= name.size() || name[p] != 'x') continue;
    size_t q = ++p;
    while (q < name.size() && IsDigit(name[q])) ++q;
    if (q == p || q >= name.size() || name[q] != '.') continue;
    std::string_view ext = name.substr(q + 1, 3);
    if (ext != "qoi" && ext != "jpg" && ext != "png") continue;
    *dims = std::string(name.substr(i, q - i));
    *format = std::string(ext);
    for (char& c : *format) c = static_cast<char>(c - 'a' + 'A');
    return true;
  }
  return false;
}

}  // namespace

void ReadSlArchive(int fd, int64_t size, GcodeMetadata* out) {
  StatusOr<ZipReader> zip = ZipReader::Open(fd, size);
  if (!zip.ok()) {
    out->complete = false;  // BadZipFile
    return;
  }
  if (const ZipReader::Entry* config = zip->Find("config.json")) {
    StatusOr<std::string> text = zip->Read(*config, kMaxZipEntry);
    if (!text.ok()) {
      out->complete = false;
      return;
    }
    std::string_view body = *text;
    if (StartsWith(body, "\xEF\xBB\xBF")) body.remove_prefix(3);  // utf-8-sig
    StatusOr<Json> json = Json::Parse(body);
    if (!json.ok() || !json->is_object()) {
      out->complete = false;
      return;
    }
    for (const Json::Member& m : json->as_object()) {
      if (SetSlAttr(&out->data, m.key, m.value) == SlResult::kAbort) {
        out->complete = false;
        return;
      }
    }
  }
  GcodeMetadata collected;
  for (const ZipReader::Entry& e : zip->entries()) {
    if (!StartsWith(e.name, "thumbnail/")) continue;
    std::string dims, format;
    if (!MatchSlThumbnail(e.name, &dims, &format)) continue;
    StatusOr<std::string> bytes = zip->Read(e, kMaxZipEntry);
    if (!bytes.ok()) {
      out->complete = false;  // the whole extraction fails: no thumbnails
      return;
    }
    std::string key = dims;
    key += '_';
    key += format;
    AddThumbnail(&collected, std::move(key), dims, format, Base64Encode(*bytes));
  }
  out->thumbnails = std::move(collected.thumbnails);
}

}  // namespace prusaconnect::internal
