// Copyright 2026 The libprusaconnect Authors.
//
// The control API's JSON (control_api.cc): reading request bodies with
// precise errors (Fields, ParseFaultRule, ParseCommand) and writing the
// emulator's records (Write*).
#ifndef PRUSACONNECT_EMULATOR_CONTROL_JSON_H_
#define PRUSACONNECT_EMULATOR_CONTROL_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "emulator/emulator.h"
#include "emulator/http_message.h"
#include "emulator/text_util.h"
#include "rapidjson/document.h"

namespace prusaconnect::emulator {

std::string_view Str(const rapidjson::Value& v);
uint64_t QueryUint(const HttpRequest& request, std::string_view name, uint64_t fallback);

// Field readers that produce a precise error for wrong types.
class Fields {
 public:
  explicit Fields(const rapidjson::Value& obj) : obj_(obj) {}
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  bool String(const char* key, std::string* out) {
    auto m = obj_.FindMember(key);
    if (m == obj_.MemberEnd() || m->value.IsNull()) return false;
    if (!m->value.IsString()) return Fail(key, "a string");
    *out = std::string(Str(m->value));
    return true;
  }
  bool Int(const char* key, int64_t* out) {
    auto m = obj_.FindMember(key);
    if (m == obj_.MemberEnd() || m->value.IsNull()) return false;
    if (!m->value.IsInt64()) return Fail(key, "an integer");
    *out = m->value.GetInt64();
    return true;
  }
  bool Number(const char* key, double* out) {
    auto m = obj_.FindMember(key);
    if (m == obj_.MemberEnd() || m->value.IsNull()) return false;
    if (!m->value.IsNumber()) return Fail(key, "a number");
    *out = m->value.GetDouble();
    return true;
  }
  bool Bool(const char* key, bool* out) {
    auto m = obj_.FindMember(key);
    if (m == obj_.MemberEnd() || m->value.IsNull()) return false;
    if (!m->value.IsBool()) return Fail(key, "a boolean");
    *out = m->value.GetBool();
    return true;
  }
  bool Headers(const char* key, std::vector<std::pair<std::string, std::string>>* out) {
    auto m = obj_.FindMember(key);
    if (m == obj_.MemberEnd() || m->value.IsNull()) return false;
    if (!m->value.IsObject()) return Fail(key, "an object of strings");
    for (auto h = m->value.MemberBegin(); h != m->value.MemberEnd(); ++h) {
      if (!h->value.IsString()) return Fail(key, "an object of strings");
      out->emplace_back(std::string(Str(h->name)), std::string(Str(h->value)));
    }
    return true;
  }

 private:
  bool Fail(const char* key, const char* what) {
    if (error_.empty()) error_ = absl::StrCat(key, " must be ", what);
    return false;
  }
  const rapidjson::Value& obj_;
  std::string error_;
};

absl::Duration Millis(double ms);
StatusOr<FaultRule> ParseFaultRule(const rapidjson::Value& v);
void WriteHeaders(JsonWriter& w, const std::vector<std::pair<std::string, std::string>>& headers);
void WriteOptionalInt(JsonWriter& w, const std::optional<int64_t>& v);
void WriteEvent(JsonWriter& w, const RecordedEvent& e);
void WriteCommandInfo(JsonWriter& w, const QueuedCommandInfo& c);
void WritePrinter(JsonWriter& w, const PrinterInfo& p);
void WriteCode(JsonWriter& w, const RegistrationCodeInfo& c);
void WriteFault(JsonWriter& w, const FaultInfo& f);
void WriteLogEntry(JsonWriter& w, const RequestLogEntry& e);
void WriteFile(JsonWriter& w, const FileInfo& f);
void WriteCamera(JsonWriter& w, const CameraInfo& c);
void WriteProtocolError(JsonWriter& w, const ProtocolError& e);
StatusOr<Command> ParseCommand(const rapidjson::Value& v);

}  // namespace prusaconnect::emulator

#endif  // PRUSACONNECT_EMULATOR_CONTROL_JSON_H_
