// Copyright 2026 The libprusaconnect Authors.
//
// NativePrinter's cameras: the library's CameraController (camera.h) for the
// package's prusaconnect.camera. Drivers written in Python are called on the
// camera's own thread with the GIL taken for the call only; the library
// calls drivers without any of its locks held, so a driver may call back
// into the printer.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "prusaconnect/camera.h"
#include "prusaconnect/const.h"
#include "py_printer.h"

namespace prusaconnect::python {
namespace {

// ---- reading the dicts the package builds (clear errors for bad values) ----

const Json* Field(const Json& object, const char* key) {
  const Json* value = object.find(key);
  return value != nullptr && !value->is_null() ? value : nullptr;
}

[[noreturn]] void BadField(const char* key, const char* expected) {
  throw Error(StatusCode::kInvalidArgument, std::string(key) + " must be " + expected);
}

// The value of `key` when present and not None, which must be of the type
// `is_type` checks (ValueError naming the `expected` type otherwise).
const Json* Typed(const Json& object, const char* key, bool (Json::*is_type)() const,
                  const char* expected) {
  const Json* value = Field(object, key);
  if (value != nullptr && !(value->*is_type)()) BadField(key, expected);
  return value;
}

void ReadString(const Json& object, const char* key, std::string* out) {
  if (const Json* value = Typed(object, key, &Json::is_string, "a str")) *out = value->as_string();
}

void ReadInt(const Json& object, const char* key, int64_t* out) {
  if (const Json* value = Typed(object, key, &Json::is_int, "an int")) *out = value->as_int();
}

void ReadInt(const Json& object, const char* key, int* out) {
  int64_t wide = *out;
  ReadInt(object, key, &wide);
  if (wide < INT32_MIN || wide > INT32_MAX) BadField(key, "a 32-bit int");
  *out = static_cast<int>(wide);
}

void ReadSize(const Json& object, const char* key, size_t* out) {
  int64_t wide = static_cast<int64_t>(*out);
  ReadInt(object, key, &wide);
  if (wide < 0) BadField(key, "a non-negative int");
  *out = static_cast<size_t>(wide);
}

void ReadDouble(const Json& object, const char* key, double* out) {
  if (const Json* value = Typed(object, key, &Json::is_number, "a number")) {
    *out = value->as_double();
  }
}

void ReadBool(const Json& object, const char* key, bool* out) {
  if (const Json* value = Typed(object, key, &Json::is_bool, "a bool")) *out = value->as_bool();
}

Resolution ReadResolution(const Json& value, const char* key) {
  if (!value.is_array() || value.size() != 2 || !value[0].is_int() || !value[1].is_int()) {
    BadField(key, "a (width, height) pair of ints");
  }
  int64_t width = value[0].as_int();
  int64_t height = value[1].as_int();
  if (width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX) {
    BadField(key, "a positive (width, height)");
  }
  return Resolution{static_cast<int>(width), static_cast<int>(height)};
}

// A camera driver written in Python: Capture() asks the printer's owner
// (the package's Printer) for an image with owner._camera_capture(id).
class PythonDriver : public CameraDriver {
 public:
  PythonDriver(std::shared_ptr<PyRef> owner, std::string id)
      : owner_(std::move(owner)), id_(std::move(id)) {}

  StatusOr<std::string> Capture() override {
    PythonCall call;
    if (!call.ok()) return UnavailableError("Python is shutting down");
    PyObject* self = OwnerOf(owner_);
    if (self == nullptr) return UnavailableError("the printer object is gone");
    StatusOr<std::string> image = InternalError("no image");
    PyObject* result = PyObject_CallMethod(self, "_camera_capture", "s#", id_.data(),
                                           static_cast<Py_ssize_t>(id_.size()));
    if (result == nullptr) {
      image = UnavailableError("take_a_photo() raised " + CurrentErrorRepr());
    } else if (PyObject_CheckBuffer(result)) {
      Py_buffer view;
      if (PyObject_GetBuffer(result, &view, PyBUF_SIMPLE) == 0) {
        image = std::string(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
        PyBuffer_Release(&view);
      } else {
        image = InvalidArgumentError("take_a_photo() returned an unreadable buffer: " +
                                     CurrentErrorRepr());
      }
    } else {
      image = InvalidArgumentError("take_a_photo() must return bytes, not " + Repr(result));
    }
    Py_XDECREF(result);
    ReleaseOwnerLater(self);
    return image;
  }

  std::string Describe() const override { return "Python driver of camera " + id_; }

 private:
  std::shared_ptr<PyRef> owner_;
  std::string id_;
};

std::shared_ptr<CameraDriver> MakeDriver(const Json& spec, const std::shared_ptr<PyRef>& owner,
                                         const std::string& id) {
  std::string kind;
  ReadString(spec, "kind", &kind);
  if (kind == "python") return std::make_shared<PythonDriver>(owner, id);
  if (kind == "http") {
    HttpSnapshotOptions o;
    ReadString(spec, "url", &o.url);
    ReadString(spec, "username", &o.username);
    ReadString(spec, "password", &o.password);
    ReadInt(spec, "timeout_ms", &o.timeout_ms);
    ReadBool(spec, "verify_tls", &o.verify_tls);
    ReadSize(spec, "max_bytes", &o.max_bytes);
    if (o.url.empty()) BadField("url", "a snapshot URL");
    return MakeHttpSnapshotDriver(o);
  }
  if (kind == "command") {
    CommandOptions o;
    const Json* argv = Field(spec, "argv");
    if (argv == nullptr || !argv->is_array() || argv->size() == 0) {
      BadField("argv", "a non-empty list of str");
    }
    for (const Json& arg : argv->as_array()) {
      if (!arg.is_string()) BadField("argv", "a non-empty list of str");
      o.argv.push_back(arg.as_string());
    }
    ReadInt(spec, "timeout_ms", &o.timeout_ms);
    ReadSize(spec, "max_bytes", &o.max_bytes);
    return MakeCommandDriver(o);
  }
  if (kind == "file") {
    std::string path;
    ReadString(spec, "path", &path);
    if (path.empty()) BadField("path", "a file path");
    return MakeFileDriver(path);
  }
  if (kind == "v4l2") {
    V4L2Options o;
    ReadString(spec, "device", &o.device);
    ReadInt(spec, "width", &o.width);
    ReadInt(spec, "height", &o.height);
    ReadInt(spec, "timeout_ms", &o.timeout_ms);
    ReadInt(spec, "skip_frames", &o.skip_frames);
    return MakeV4L2Driver(o);
  }
  throw Error(StatusCode::kInvalidArgument, "unknown camera driver kind: '" + kind + "'");
}

CameraConfig MakeConfig(const Json& c) {
  CameraConfig out;
  ReadString(c, "id", &out.id);
  ReadString(c, "name", &out.name);
  ReadString(c, "fingerprint", &out.fingerprint);
  ReadString(c, "token", &out.token);
  ReadString(c, "printer_uuid", &out.printer_uuid);
  std::string scheme;
  ReadString(c, "trigger_scheme", &scheme);
  if (!scheme.empty()) out.trigger_scheme = ParseOrThrow<TriggerScheme>(scheme, "trigger scheme");
  if (const Json* caps = Field(c, "capabilities")) {
    if (!caps->is_array()) BadField("capabilities", "a list of capabilities");
    out.capabilities.clear();
    for (const Json& cap : caps->as_array()) {
      CapabilityType type{};
      if (!cap.is_string() || !Parse(cap.as_string(), &type)) {
        throw Error(StatusCode::kInvalidArgument, "unknown capability: " + cap.Dump());
      }
      out.capabilities.push_back(type);
    }
  }
  if (const Json* list = Field(c, "resolutions")) {
    if (!list->is_array()) BadField("resolutions", "a list of (width, height)");
    for (const Json& r : list->as_array())
      out.resolutions.push_back(ReadResolution(r, "resolutions"));
  }
  if (const Json* r = Field(c, "resolution")) out.resolution = ReadResolution(*r, "resolution");
  ReadInt(c, "rotation", &out.rotation);
  ReadDouble(c, "exposure", &out.exposure);
  ReadDouble(c, "focus", &out.focus);
  return out;
}

Json StatusJson(const CameraStatus& s) {
  Json j = Json::MakeObject();
  j.set("id", s.id);
  j.set("name", s.name);
  j.set("fingerprint", s.fingerprint);
  j.set("trigger_scheme", ToString(s.trigger_scheme));
  j.set("registered", s.registered);
  j.set("state", ToString(s.state));
  j.set("last_error", s.last_error);
  j.set("snapshots_uploaded", s.snapshots_uploaded);
  j.set("capture_failures", s.capture_failures);
  j.set("upload_failures", s.upload_failures);
  j.set("oversize_skipped", s.oversize_skipped);
  j.set("triggers_skipped", s.triggers_skipped);
  j.set("last_image_bytes", static_cast<uint64_t>(s.last_image_bytes));
  j.set("last_upload_time", s.last_upload_time);
  return j;
}

const char* PolicyName(UploadPolicy policy) {
  return policy == UploadPolicy::ALWAYS ? "ALWAYS" : "WHILE_PRINTING";
}

}  // namespace

void NativePrinter::camera_add(const Json& config, const Json& driver) {
  if (!config.is_object() || !driver.is_object()) {
    throw Error(StatusCode::kInvalidArgument, "camera config and driver must be dicts");
  }
  CameraConfig c = MakeConfig(config);
  c.driver = MakeDriver(driver, owner_, c.id);
  ThrowIfError(printer_.cameras().add_camera(c));
}

void NativePrinter::camera_remove(const std::string& id) {
  ThrowIfError(printer_.cameras().remove_camera(id));
}

Json NativePrinter::camera_ids() {
  Json ids = Json::MakeArray();
  for (const std::string& id : printer_.cameras().camera_ids()) ids.push_back(id);
  return ids;
}

Json NativePrinter::camera_status(const std::string& id) {
  StatusOr<CameraStatus> s = printer_.cameras().status(id);
  ThrowIfError(s.status());
  return StatusJson(*s);
}

Json NativePrinter::camera_statuses() {
  Json all = Json::MakeArray();
  for (const CameraStatus& s : printer_.cameras().statuses()) all.push_back(StatusJson(s));
  return all;
}

std::string NativePrinter::camera_register(const std::string& id) {
  StatusOr<std::string> token = printer_.cameras().register_camera(id);
  ThrowIfError(token.status());
  return *token;
}

void NativePrinter::camera_set_trigger_scheme(const std::string& id, const std::string& scheme) {
  ThrowIfError(printer_.cameras().set_trigger_scheme(
      id, ParseOrThrow<TriggerScheme>(scheme, "trigger scheme")));
}

void NativePrinter::camera_layer_changed() { printer_.cameras().layer_changed(); }

void NativePrinter::camera_trigger(const std::string& id) {
  ThrowIfError(printer_.cameras().trigger_manual(id));
}

Json NativePrinter::camera_options() {
  CameraOptions o = printer_.cameras().options();
  Json j = Json::MakeObject();
  j.set("upload_policy", PolicyName(o.policy));
  j.set("max_image_bytes", static_cast<uint64_t>(o.max_image_bytes));
  j.set("upload_timeout_ms", o.upload_timeout_ms);
  j.set("backoff_min_ms", o.backoff_min_ms);
  j.set("backoff_max_ms", o.backoff_max_ms);
  j.set("jpeg_quality", o.jpeg_quality);
  j.set("busy_timeout_ms", o.busy_timeout_ms);
  return j;
}

void NativePrinter::camera_set_options(const Json& options) {
  if (!options.is_object()) throw Error(StatusCode::kInvalidArgument, "options must be a dict");
  CameraOptions o = printer_.cameras().options();
  std::string policy = PolicyName(o.policy);
  ReadString(options, "upload_policy", &policy);
  if (policy == "ALWAYS") {
    o.policy = UploadPolicy::ALWAYS;
  } else if (policy == "WHILE_PRINTING") {
    o.policy = UploadPolicy::WHILE_PRINTING;
  } else {
    throw Error(StatusCode::kInvalidArgument, "unknown upload policy: '" + policy + "'");
  }
  ReadSize(options, "max_image_bytes", &o.max_image_bytes);
  ReadInt(options, "upload_timeout_ms", &o.upload_timeout_ms);
  ReadInt(options, "backoff_min_ms", &o.backoff_min_ms);
  ReadInt(options, "backoff_max_ms", &o.backoff_max_ms);
  ReadInt(options, "jpeg_quality", &o.jpeg_quality);
  ReadInt(options, "busy_timeout_ms", &o.busy_timeout_ms);
  ThrowIfError(printer_.cameras().set_options(o));
}

void NativePrinter::camera_watch_tokens(bool enabled) {
  if (!enabled) {
    printer_.cameras().set_token_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  printer_.cameras().set_token_cb(
      [weak](const std::string& id, const std::string& fingerprint, const std::string& token) {
        CallOwnerLater(weak, "_on_camera_token", [id, fingerprint, token] {
          return Py_BuildValue("(s#s#s#)", id.data(), static_cast<Py_ssize_t>(id.size()),
                               fingerprint.data(), static_cast<Py_ssize_t>(fingerprint.size()),
                               token.data(), static_cast<Py_ssize_t>(token.size()));
        });
      });
}

}  // namespace prusaconnect::python
