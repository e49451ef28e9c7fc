// Copyright 2026 The libprusaconnect Authors.
#include "py_convert.h"

#include <climits>

namespace prusaconnect::python {

#define PRUSACONNECT_ENUM_NAME(E) \
  template <>                     \
  const char* EnumName<E>() {     \
    return #E;                    \
  }
PRUSACONNECT_ENUM_NAME(State)
PRUSACONNECT_ENUM_NAME(JobState)
PRUSACONNECT_ENUM_NAME(MMUType)
PRUSACONNECT_ENUM_NAME(StorageType)
PRUSACONNECT_ENUM_NAME(Event)
PRUSACONNECT_ENUM_NAME(Source)
PRUSACONNECT_ENUM_NAME(Command)
PRUSACONNECT_ENUM_NAME(TransferType)
PRUSACONNECT_ENUM_NAME(FileType)
PRUSACONNECT_ENUM_NAME(RegistrationStatus)
PRUSACONNECT_ENUM_NAME(CapabilityType)
PRUSACONNECT_ENUM_NAME(TriggerScheme)
PRUSACONNECT_ENUM_NAME(CondState)
PRUSACONNECT_ENUM_NAME(UploadPolicy)
PRUSACONNECT_ENUM_NAME(CameraState)
#undef PRUSACONNECT_ENUM_NAME

namespace {

template <typename E>
bool ParseByText(const std::string& text, E* out, std::initializer_list<E> values) {
  for (E v : values) {
    if (text == EnumText(v)) {
      *out = v;
      return true;
    }
  }
  return false;
}

// An int that fits [lo, hi]; TypeError for a non-int (bool is an int, as in
// Python), OverflowError out of range.
bool IntInRange(PyObject* o, long long lo, long long hi, long long* out) {  // NOLINT(runtime/int)
  if (!PyLong_Check(o)) {
    PyObject* index = PyNumber_Index(o);  // numpy ints, IntEnum...
    if (index == nullptr) {
      PyErr_Format(PyExc_TypeError, "expected an int, not %s", Py_TYPE(o)->tp_name);
      return false;
    }
    bool ok = IntInRange(index, lo, hi, out);
    Py_DECREF(index);
    return ok;
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(o, &overflow);  // NOLINT(runtime/int)
  if (v == -1 && PyErr_Occurred()) return false;
  if (overflow != 0 || v < lo || v > hi) {
    PyErr_SetString(PyExc_OverflowError, "int out of range");
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

bool EnumParse(const std::string& text, CondState* out) {
  return ParseByText(text, out, {CondState::kUnknown, CondState::kOk, CondState::kNok});
}
bool EnumParse(const std::string& text, UploadPolicy* out) {
  return ParseByText(text, out, {UploadPolicy::WHILE_PRINTING, UploadPolicy::ALWAYS});
}
bool EnumParse(const std::string& text, CameraState* out) {
  return ParseByText(text, out,
                     {CameraState::UNREGISTERED, CameraState::READY, CameraState::BUSY,
                      CameraState::RETRYING, CameraState::STOPPED, CameraState::STUCK});
}

bool FromPy(PyObject* o, bool* out) {
  int truth = PyObject_IsTrue(o);
  if (truth < 0) return false;
  *out = truth != 0;
  return true;
}

bool FromPy(PyObject* o, int* out) {
  long long v = 0;  // NOLINT(runtime/int)
  if (!IntInRange(o, INT_MIN, INT_MAX, &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

bool FromPy(PyObject* o, int64_t* out) {
  long long v = 0;  // NOLINT(runtime/int)
  if (!IntInRange(o, LLONG_MIN, LLONG_MAX, &v)) return false;
  *out = v;
  return true;
}

bool FromPy(PyObject* o, uint32_t* out) {
  long long v = 0;  // NOLINT(runtime/int)
  if (!IntInRange(o, 0, UINT32_MAX, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool FromPy(PyObject* o, double* out) {
  double v = PyFloat_AsDouble(o);
  if (v == -1.0 && PyErr_Occurred()) return false;
  *out = v;
  return true;
}

bool FromPy(PyObject* o, std::string* out) {
  if (!PyUnicode_Check(o)) {
    PyErr_Format(PyExc_TypeError, "expected a str, not %s", Py_TYPE(o)->tp_name);
    return false;
  }
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(o, &size);
  if (text == nullptr) return false;
  out->assign(text, static_cast<size_t>(size));
  return true;
}

bool FromPy(PyObject* o, Json* out) { return ToJson(o, out); }

bool FromPy(PyObject* o, std::optional<PrinterType>* out) {
  if (o == Py_None) {
    out->reset();
    return true;
  }
  std::string text;
  if (!FromPy(o, &text)) return false;
  *out = PrinterType::FromString(text);
  if (!*out) {
    PyErr_Format(PyExc_ValueError, "unknown printer type: '%s'", text.c_str());
    return false;
  }
  return true;
}

PyObject* StatusToPy(const Status& status) {
  if (status.ok()) Py_RETURN_NONE;
  SetPythonError(Error(status));
  return nullptr;
}

}  // namespace prusaconnect::python
