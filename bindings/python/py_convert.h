// Copyright 2026 The libprusaconnect Authors.
//
// C++ values <-> Python objects, for the typemaps of prusaconnect.i.
//
// Hand-written because SWIG has no typemaps for std::optional, for enum
// classes that cross as their wire text ("READY", as the SDK's str enums
// carry them) or for StatusOr; one overload set here serves every type, so
// each typemap in prusaconnect.i is one line. Every function REQUIRES the
// GIL.
//
//   ToPy(value)          a new reference, or nullptr with a Python error set
//   FromPy(obj, &value)  true, or false with a Python error set
//
// Enums: str ↔ the enumerator whose wire text it is (ValueError "unknown
// State: 'x'"). std::optional: None ↔ nullopt. std::vector: list ↔ any
// sequence. Json: see ToJson()/FromJson() (py_runtime.h). PrinterType: its
// dotted triple "1.3.1" (or member name "I3MK3S" going in).
#ifndef PRUSACONNECT_BINDINGS_PYTHON_PY_CONVERT_H_
#define PRUSACONNECT_BINDINGS_PYTHON_PY_CONVERT_H_

#include "py_runtime.h"  // Python.h first

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "prusaconnect/camera.h"
#include "prusaconnect/conditions.h"
#include "prusaconnect/const.h"
#include "prusaconnect/json.h"
#include "prusaconnect/status.h"

namespace prusaconnect::python {

// ---- enum text ----
// The enums whose text the library already knows (const.h, camera.h,
// conditions.h) go through these two, so the templates below take them all.
template <typename E>
const char* EnumText(E value) {
  return ToString(value);
}
inline const char* EnumText(CondState value) { return CondStateName(value); }
inline const char* EnumText(UploadPolicy value) {
  return value == UploadPolicy::ALWAYS ? "ALWAYS" : "WHILE_PRINTING";
}

template <typename E>
bool EnumParse(const std::string& text, E* out) {
  return Parse(text, out);
}
bool EnumParse(const std::string& text, CondState* out);
bool EnumParse(const std::string& text, UploadPolicy* out);
bool EnumParse(const std::string& text, CameraState* out);

// The name in error messages ("unknown State: 'x'").
template <typename E>
const char* EnumName();

// ---- C++ → Python ----
inline PyObject* ToPy(bool v) { return PyBool_FromLong(v ? 1 : 0); }
inline PyObject* ToPy(int v) { return PyLong_FromLong(v); }
inline PyObject* ToPy(long v) { return PyLong_FromLong(v); }              // NOLINT(runtime/int)
inline PyObject* ToPy(long long v) { return PyLong_FromLongLong(v); }     // NOLINT(runtime/int)
inline PyObject* ToPy(unsigned v) { return PyLong_FromUnsignedLong(v); }  // NOLINT(runtime/int)
inline PyObject* ToPy(unsigned long v) { return PyLong_FromUnsignedLong(v); }           // NOLINT
inline PyObject* ToPy(unsigned long long v) { return PyLong_FromUnsignedLongLong(v); }  // NOLINT
inline PyObject* ToPy(double v) { return PyFloat_FromDouble(v); }
inline PyObject* ToPy(const std::string& v) { return PyText(v); }
inline PyObject* ToPy(const Json& v) { return FromJson(v); }
inline PyObject* ToPy(const PrinterType& v) { return PyText(v.ToString()); }

template <typename E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
PyObject* ToPy(E v) {
  return PyUnicode_FromString(EnumText(v));
}

template <typename T>
PyObject* ToPy(const std::optional<T>& v) {
  if (!v) Py_RETURN_NONE;
  return ToPy(*v);
}

template <typename T>
PyObject* ToPy(const std::vector<T>& v) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(v.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < v.size(); ++i) {
    PyObject* item = ToPy(v[i]);
    if (item == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

// ---- Python → C++ ----
bool FromPy(PyObject* o, bool* out);
bool FromPy(PyObject* o, int* out);
bool FromPy(PyObject* o, int64_t* out);
bool FromPy(PyObject* o, uint32_t* out);
bool FromPy(PyObject* o, double* out);
bool FromPy(PyObject* o, std::string* out);
bool FromPy(PyObject* o, Json* out);
bool FromPy(PyObject* o, std::optional<PrinterType>* out);  // None: nullopt

template <typename E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
bool FromPy(PyObject* o, E* out) {
  std::string text;
  if (!PyUnicode_Check(o) || !FromPy(o, &text)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str", EnumName<E>());
    return false;
  }
  if (!EnumParse(text, out)) {
    PyErr_Format(PyExc_ValueError, "unknown %s: '%s'", EnumName<E>(), text.c_str());
    return false;
  }
  return true;
}

template <typename T>
bool FromPy(PyObject* o, std::optional<T>* out) {
  if (o == Py_None) {
    out->reset();
    return true;
  }
  T value{};
  if (!FromPy(o, &value)) return false;
  *out = std::move(value);
  return true;
}

template <typename T>
bool FromPy(PyObject* o, std::vector<T>* out) {
  if (PyUnicode_Check(o) || PyBytes_Check(o)) {
    PyErr_SetString(PyExc_TypeError, "expected a list, not a str");
    return false;
  }
  PyObject* seq = PySequence_Fast(o, "expected a list");
  if (seq == nullptr) return false;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  out->clear();
  out->reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    T value{};
    if (!FromPy(PySequence_Fast_GET_ITEM(seq, i), &value)) {
      Py_DECREF(seq);
      return false;
    }
    out->push_back(std::move(value));
  }
  Py_DECREF(seq);
  return true;
}

// ---- Status ----
// None for OK; otherwise sets the Python exception of its code (see
// ExceptionClass()) and returns nullptr.
PyObject* StatusToPy(const Status& status);

template <typename T>
PyObject* StatusOrToPy(const StatusOr<T>& result) {
  if (!result.ok()) return StatusToPy(result.status());
  return ToPy(*result);
}

}  // namespace prusaconnect::python

#endif  // PRUSACONNECT_BINDINGS_PYTHON_PY_CONVERT_H_
