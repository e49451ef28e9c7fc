// Copyright 2026 The libprusaconnect Authors.
//
// OctoPrintStorage: OctoPrint's "local" uploads folder as a Connect storage
// (a StorageProvider, files.h). The tree comes from
// GET /api/files/local?recursive=true; file commands become OctoPrint's file
// API calls; metadata for SEND_FILE_INFO comes from OctoPrint's G-code
// analysis (estimated time, filament) plus the slicer thumbnail when the
// Slicer Thumbnails plugin provides one; a finished download is uploaded
// with a multipart POST /api/files/local (StoreFile).
//
// Paths are relative to the storage ("prints/benchy.gcode"), already checked
// by the library; they are percent-encoded per component for OctoPrint.
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_OCTOPRINT_STORAGE_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_OCTOPRINT_STORAGE_H_

#include <prusaconnect/files.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "octoprint_client.h"

namespace octoprint_adapter {

class OctoPrintStorage : public prusaconnect::StorageProvider {
 public:
  OctoPrintStorage(std::shared_ptr<const OctoPrintClient> client, std::string name);

  std::string name() const override { return name_; }
  prusaconnect::StatusOr<prusaconnect::Node> List() override;
  prusaconnect::SpaceInfo Space() override;
  prusaconnect::StatusOr<prusaconnect::GcodeMetadata> Metadata(const std::string& path) override;
  prusaconnect::Status CreateFolder(const std::string& path) override;
  prusaconnect::Status DeleteFile(const std::string& path) override;
  prusaconnect::Status DeleteFolder(const std::string& path, bool force) override;
  bool CanStoreFiles() const override { return true; }
  prusaconnect::Status StoreFile(const std::string& path, const std::string& local_file) override;

  // Converts one entry of OctoPrint's file list (recursively).
  static prusaconnect::Node NodeFromEntry(const prusaconnect::Json& entry);
  // OctoPrint's file entry → gcode-metadata-shaped data (no thumbnails).
  static prusaconnect::GcodeMetadata MetadataFromEntry(const prusaconnect::Json& entry);

 private:
  std::shared_ptr<const OctoPrintClient> client_;
  std::string name_;
  std::mutex mu_;
  prusaconnect::SpaceInfo space_;
};

std::string Base64Encode(const std::string& bytes);
// A thumbnail from PNG bytes (size from the IHDR chunk, data base64); none
// when the bytes are not a PNG.
std::optional<prusaconnect::Thumbnail> PngThumbnail(const std::string& png);

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_OCTOPRINT_STORAGE_H_
