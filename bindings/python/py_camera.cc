// Copyright 2026 The libprusaconnect Authors.
//
// PythonPrinter's camera hooks: a camera driver written in Python and the
// token callback. The cameras themselves are the library's CameraController
// (camera.h), wrapped by SWIG. A Python driver is called on the camera's own
// thread with the GIL taken for the call only; the library calls drivers
// without any of its locks held, so a driver may call back into the printer.
#include <memory>
#include <string>
#include <utility>

#include "prusaconnect/camera.h"
#include "py_printer.h"

namespace prusaconnect::python {
namespace {

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

}  // namespace

std::shared_ptr<CameraDriver> PythonPrinter::python_camera_driver(const std::string& camera_id) {
  return std::make_shared<PythonDriver>(owner_, camera_id);
}

void PythonPrinter::watch_camera_tokens(bool enabled) {
  if (!enabled) {
    cameras().set_token_cb(nullptr);
    return;
  }
  std::shared_ptr<PyRef> weak = owner_;
  cameras().set_token_cb(
      [weak](const std::string& id, const std::string& fingerprint, const std::string& token) {
        CallOwnerLater(weak, "_on_camera_token", [id, fingerprint, token] {
          return Py_BuildValue("(NNN)", PyText(id), PyText(fingerprint), PyText(token));
        });
      });
}

}  // namespace prusaconnect::python
