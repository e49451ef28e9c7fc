// Copyright 2026 The libprusaconnect Authors.
//
// What the metadata readers (metadata_*.cc) record: FDMMetaData.set_attr()
// with its attribute tables, and thumbnails.
#ifndef PRUSACONNECT_FILES_METADATA_ATTRS_H_
#define PRUSACONNECT_FILES_METADATA_ATTRS_H_

#include <string>
#include <string_view>

#include "prusaconnect/files.h"
#include "prusaconnect/json.h"

namespace prusaconnect::internal {

// A value as set_attr() receives it: text from the file, or a float, string
// or True produced by the filename and M73 parsers.
struct PyVal {
  enum Kind { kStr, kFloat, kBool } kind = kStr;
  std::string_view s;
  double d = 0;
  bool b = false;

  static PyVal Str(std::string_view s) { return {kStr, s, 0, false}; }
  static PyVal Float(double d) { return {kFloat, {}, d, false}; }
  static PyVal True() { return {kBool, {}, 0, true}; }
};

// FDMMetaData.set_attr: converts `value` as the attribute `name` wants and
// sets it in `data` (MMU attributes also as "<name> per tool"); unknown
// names and values that do not convert are ignored.
void SetFdmAttr(Json* data, std::string_view name, const PyVal& value);

// Adds a thumbnail ("WxH" `dims`, base64 `data`), replacing the data of one
// with the same key.
void AddThumbnail(GcodeMetadata* out, std::string key, const std::string& dims,
                  const std::string& format, std::string data);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_METADATA_ATTRS_H_
