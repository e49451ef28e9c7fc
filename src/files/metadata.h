// Copyright 2026 The libprusaconnect Authors.
//
// The G-code metadata reader: a re-implementation of Prusa's gcode-metadata
// (gcode_metadata/metadata.py at 6741caf, the version the SDK pins) that
// gives the same keys, value types, values and order for the same file —
// without its regular expressions, its cache files, or reading more than
// the head and tail windows of a file. The public entry point is
// ReadGcodeMetadata() in prusaconnect/files.h; the pieces below are exposed
// for unit tests. Deliberate differences are listed in docs/FILES.md.
//
// Thread safety: no shared state; a parser object belongs to one thread.
#ifndef PRUSACONNECT_FILES_METADATA_H_
#define PRUSACONNECT_FILES_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "files/pytext.h"  // PyFloat, PyInt
#include "prusaconnect/files.h"
#include "prusaconnect/json.h"

namespace prusaconnect::internal {

// gcode-metadata's extract_data(filename) for the keys it keeps: the
// nozzle ("0.4n"), layer height ("0.2mm"), material, printer model and
// print time ("1h2m") found in a file name, into `data`.
void MetadataFromFilename(std::string_view filename, Json* data);

// FDMMetaData: feed it lines (each with its "\n", if any) in file order.
class FdmMetadataParser {
 public:
  explicit FdmMetadataParser(GcodeMetadata* out) : out_(out) {}

  // Returns false when gcode-metadata would stop reading here (the line is
  // not UTF-8, or a thumbnail block ends wrongly); `out` keeps what it has.
  bool ProcessLine(std::string_view line);

 private:
  bool CommentLine(std::string_view line);
  void GcodeLine(std::string_view line);
  bool M73Complete() const;

  GcodeMetadata* out_;
  bool in_image_ = false;
  std::string img_format_;
  std::string img_dims_;
  int64_t img_size_ = 0;
  std::string img_;
  int64_t m73_searched_bytes_ = 0;
};

// Reads `fd` (a G-code file of `size` bytes) as FDMMetaData.quick_parse()
// does: the first 800,000 bytes line by line, then the last 40,000.
void ReadFdmWindows(int fd, int64_t size, FdmMetadataParser* parser, GcodeMetadata* out);

// SLMetaData: config.json and thumbnail/*.png|jpg|qoi of an SL1 archive.
void ReadSlArchive(int fd, int64_t size, GcodeMetadata* out);

// get_metadata() on an open file: chooses the reader by `name`'s extension.
// False (and nothing read) when the name is not a print file's.
bool ReadPrintFileMetadata(int fd, int64_t size, std::string_view name, GcodeMetadata* out);

}  // namespace prusaconnect::internal

#endif  // PRUSACONNECT_FILES_METADATA_H_
