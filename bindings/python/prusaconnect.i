// Copyright 2026 The libprusaconnect Authors.
//
// SWIG interface of the compiled module `prusaconnect._prusaconnect`. It
// wraps the public headers themselves — Printer, Filesystem, Conditions,
// CameraController and the value types of models.h, transfer.h, files.h and
// camera.h — plus PythonPrinter (py_printer.h), a Printer that calls back
// into the Python object owning it. The pure-Python package around it
// (bindings/python/prusaconnect) is the public API; nothing here is meant
// to be used directly.
//
// How C++ types cross (typemaps below, conversions in py_convert.h):
//   enum classes        str, their wire text ("READY")
//   std::optional<T>    None or T
//   std::vector<T>      list
//   Json                dict, list, str, int, float, bool, None
//   PrinterType         its dotted triple "1.3.1"
//   Status              None, or the exception of its code (NotFound →
//                       FileNotFoundError, InvalidArgument → ValueError...)
//   StatusOr<T>         T, or that exception
//   structs             SWIG objects with attributes (copies)
//
// A new method of a wrapped header needs nothing here unless it brings a
// type the typemaps do not know yet.
//
// Generated with -builtin (native types, no shadow classes) and -threads.
// GIL: every wrapped call releases it (the library never calls Python with
// one of its locks held, and its network thread never takes the GIL), except
// the two that use the Python C API inside (the "nothread" feature below).
%module(package="prusaconnect") _prusaconnect

// The wrappers release the GIL with prusaconnect::python::AllowThreads
// (py_runtime.h) instead of SWIG's own class, which can abort the process
// when a daemon thread returns from a blocking call at interpreter exit.
%begin %{
#define SWIG_PYTHON_NO_USE_GIL
#define SWIG_PYTHON_THREAD_BEGIN_BLOCK PyGILState_STATE _swig_thread_block = PyGILState_Ensure()
#define SWIG_PYTHON_THREAD_END_BLOCK PyGILState_Release(_swig_thread_block)
#define SWIG_PYTHON_THREAD_BEGIN_ALLOW prusaconnect::python::AllowThreads _swig_thread_allow
#define SWIG_PYTHON_THREAD_END_ALLOW _swig_thread_allow.end()
%}

%{
#include "py_client.h"
#include "py_convert.h"
#include "py_printer.h"
#include "prusaconnect/commands.h"
%}

%include <stdint.i>
%include <std_string.i>
%include <std_shared_ptr.i>

#define PRUSACONNECT_API

%feature("valuewrapper") prusaconnect::PrinterType;
// Types that cross by the typemaps below, declared for SWIG only (their
// headers are not wrapped).
namespace prusaconnect {
enum class State;
enum class JobState;
enum class MMUType;
enum class StorageType;
enum class Event;
enum class Source;
enum class Command;
enum class TransferType;
enum class FileType;
enum class RegistrationStatus;
enum class CapabilityType;
enum class TriggerScheme;
class Json;
class Status;
template <typename T> class StatusOr;
class PrinterType;
struct CommandDefinition;
}  // namespace prusaconnect

// ---- typemaps: values converted by py_convert.h ----
%define %py_value(TYPE...)
%typemap(in) TYPE {
  TYPE temp_value{};
  if (!prusaconnect::python::FromPy($input, &temp_value)) SWIG_fail;
  $1 = temp_value;
}
%typemap(in) const TYPE& (TYPE temp) {
  if (!prusaconnect::python::FromPy($input, &temp)) SWIG_fail;
  $1 = &temp;
}
%typemap(out) TYPE {
  $result = prusaconnect::python::ToPy(static_cast<const TYPE&>($1));
  if ($result == nullptr) SWIG_fail;
}
%typemap(out) const TYPE& {
  $result = prusaconnect::python::ToPy(*$1);
  if ($result == nullptr) SWIG_fail;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_POINTER) TYPE, const TYPE& {
  $1 = 1;
}
%enddef

%define %py_enum(E)
%py_value(E)
%py_value(std::optional<E>)
%py_value(std::vector<E>)
%enddef

%py_enum(prusaconnect::State)
%py_enum(prusaconnect::JobState)
%py_enum(prusaconnect::MMUType)
%py_enum(prusaconnect::StorageType)
%py_enum(prusaconnect::Event)
%py_enum(prusaconnect::Source)
%py_enum(prusaconnect::Command)
%py_enum(prusaconnect::TransferType)
%py_enum(prusaconnect::FileType)
%py_enum(prusaconnect::RegistrationStatus)
%py_enum(prusaconnect::CapabilityType)
%py_enum(prusaconnect::TriggerScheme)
%py_enum(prusaconnect::CondState)
%py_enum(prusaconnect::UploadPolicy)
%py_enum(prusaconnect::CameraState)
%py_value(std::optional<bool>)
%py_value(std::optional<int>)
%py_value(std::optional<int64_t>)
%py_value(std::optional<uint32_t>)
%py_value(std::optional<double>)
%py_value(std::optional<std::string>)
%py_value(std::vector<double>)
%py_value(std::vector<std::string>)
%py_value(prusaconnect::Json)

// PrinterType: no default constructor, hence its own typemaps.
%typemap(in) std::optional<prusaconnect::PrinterType> {
  std::optional<prusaconnect::PrinterType> temp_type;
  if (!prusaconnect::python::FromPy($input, &temp_type)) SWIG_fail;
  $1 = temp_type;
}
%typemap(in) prusaconnect::PrinterType {
  std::optional<prusaconnect::PrinterType> temp_type;
  if (!prusaconnect::python::FromPy($input, &temp_type)) SWIG_fail;
  if (!temp_type) SWIG_exception_fail(SWIG_TypeError, "a printer type is required");
  $1 = *temp_type;
}
%typemap(out) std::optional<prusaconnect::PrinterType> {
  $result = prusaconnect::python::ToPy(
      static_cast<const std::optional<prusaconnect::PrinterType>&>($1));
  if ($result == nullptr) SWIG_fail;
}

// Command definitions cross in Connect's JSON form (commands.h).
%typemap(in) std::vector<prusaconnect::CommandDefinition> {
  prusaconnect::Json temp_json;
  if (!prusaconnect::python::ToJson($input, &temp_json)) SWIG_fail;
  prusaconnect::StatusOr<std::vector<prusaconnect::CommandDefinition>> parsed =
      prusaconnect::ParseCommandDefinitions(temp_json);
  if (!parsed.ok()) {
    prusaconnect::python::StatusToPy(parsed.status());
    SWIG_fail;
  }
  $1 = std::move(*parsed);
}
%typemap(out) std::vector<prusaconnect::CommandDefinition> {
  $result = prusaconnect::python::FromJson(prusaconnect::ToJson(
      static_cast<const std::vector<prusaconnect::CommandDefinition>&>($1)));
  if ($result == nullptr) SWIG_fail;
}

// ---- Status and StatusOr ----
%typemap(out) prusaconnect::Status {
  $result = prusaconnect::python::StatusToPy(static_cast<const prusaconnect::Status&>($1));
  if ($result == nullptr) SWIG_fail;
}
%define %status_or_value(T...)
%typemap(out) prusaconnect::StatusOr<T> {
  $result = prusaconnect::python::StatusOrToPy(
      static_cast<const prusaconnect::StatusOr<T>&>($1));
  if ($result == nullptr) SWIG_fail;
}
%enddef
%status_or_value(std::string)
%status_or_value(prusaconnect::Json)

// ---- wrapped structs inside optional, StatusOr and vector ----
%{
namespace prusaconnect::python {
PyObject* NewTransferInfoObject(const TransferInfo& info) {
  static swig_type_info* type = SWIG_TypeQuery("prusaconnect::TransferInfo *");
  return SWIG_Python_NewPointerObj(nullptr, new TransferInfo(info), type, SWIG_POINTER_OWN);
}
bool CommandResultOf(PyObject* object, CommandResult* out) {
  static swig_type_info* type = SWIG_TypeQuery("prusaconnect::CommandResult *");
  void* ptr = nullptr;
  if (!SWIG_IsOK(SWIG_ConvertPtr(object, &ptr, type, 0)) || ptr == nullptr) return false;
  *out = *static_cast<CommandResult*>(ptr);
  return true;
}
// None, or a new wrapped copy of the value.
template <typename T>
PyObject* OptionalObject(const std::optional<T>& value, swig_type_info* type) {
  if (!value) Py_RETURN_NONE;
  return SWIG_Python_NewPointerObj(nullptr, new T(*value), type, SWIG_POINTER_OWN);
}
// A list of new wrapped copies.
template <typename T>
PyObject* ObjectList(const std::vector<T>& values, swig_type_info* type) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(values.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < values.size(); ++i) {
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i),
                    SWIG_Python_NewPointerObj(nullptr, new T(values[i]), type, SWIG_POINTER_OWN));
  }
  return list;
}
}  // namespace prusaconnect::python
%}
%define %py_object(T...)
%typemap(out) prusaconnect::StatusOr<T> {
  const prusaconnect::StatusOr<T>& temp_result = $1;
  if (!temp_result.ok()) {
    prusaconnect::python::StatusToPy(temp_result.status());
    SWIG_fail;
  }
  $result = SWIG_NewPointerObj(new T(*temp_result), $descriptor(T*), SWIG_POINTER_OWN);
}
%typemap(out) std::optional<T> {
  $result = prusaconnect::python::OptionalObject(
      static_cast<const std::optional<T>&>($1), $descriptor(T*));
}
%typemap(out) const std::optional<T>& {
  $result = prusaconnect::python::OptionalObject(*$1, $descriptor(T*));
}
%typemap(in) const std::optional<T>& (std::optional<T> temp) {
  if ($input != Py_None) {
    void* temp_ptr = nullptr;
    int res = SWIG_ConvertPtr($input, &temp_ptr, $descriptor(T*), 0);
    if (!SWIG_IsOK(res) || temp_ptr == nullptr) {
      SWIG_exception_fail(SWIG_TypeError, "expected a " #T " or None");
    }
    temp = *static_cast<T*>(temp_ptr);
  }
  $1 = &temp;
}
%typemap(out) std::vector<T> {
  $result = prusaconnect::python::ObjectList(
      static_cast<const std::vector<T>&>($1), $descriptor(T*));
  if ($result == nullptr) SWIG_fail;
}
%typemap(out) const std::vector<T>& {
  $result = prusaconnect::python::ObjectList(*$1, $descriptor(T*));
  if ($result == nullptr) SWIG_fail;
}
%typemap(in) const std::vector<T>& (std::vector<T> temp) {
  PyObject* seq = PySequence_Fast($input, "expected a list of " #T);
  if (seq == nullptr) SWIG_fail;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    void* temp_ptr = nullptr;
    int res = SWIG_ConvertPtr(PySequence_Fast_GET_ITEM(seq, i), &temp_ptr, $descriptor(T*), 0);
    if (!SWIG_IsOK(res) || temp_ptr == nullptr) {
      Py_DECREF(seq);
      SWIG_exception_fail(SWIG_TypeError, "expected a list of " #T);
    }
    temp.push_back(*static_cast<T*>(temp_ptr));
  }
  Py_DECREF(seq);
  $1 = &temp;
}
%enddef

// Struct members are read and written as values (copies), not pointers.
%naturalvar;

// ---- errors thrown by PythonPrinter (py_runtime.h Error) ----
%exception {
  try {
    $action
  } catch (const prusaconnect::python::Error& e) {
    prusaconnect::python::SetPythonError(e);
    SWIG_fail;
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    SWIG_fail;
  }
}
// command() re-raises a BaseException (KeyboardInterrupt, SystemExit...)
// that a handler it ran let through.
%exception prusaconnect::Printer::command {
  {
    prusaconnect::python::StashScope stash_scope;
    $action
  }
  if (prusaconnect::python::RestoreStashedError()) SWIG_fail;
}

// ---- GIL: kept only where Python objects are touched ----
// PythonPrinter's constructor takes a weak reference to its owner and
// install_log_sink a reference to the forwarder: both use the Python C API.
// (Arguments and results are converted outside the released region anyway;
// PyRef may be dropped without the GIL.)
%feature("nothread") prusaconnect::python::PythonPrinter::PythonPrinter;
%feature("nothread") prusaconnect::python::install_log_sink;

// ---- what is not wrapped ----
// Callbacks (std::function) are installed by PythonPrinter, which holds the
// GIL rules; objects the library creates itself have no constructor here.
%ignore prusaconnect::Printer::Printer;
%ignore prusaconnect::Printer::set_register_handler;
%ignore prusaconnect::Printer::set_handler;
%ignore prusaconnect::Printer::set_stop_cb;
%ignore prusaconnect::Printer::set_printed_file_cb;
%ignore prusaconnect::Printer::set_download_finished_cb;
%ignore prusaconnect::Printer::set_request_observer;
%ignore prusaconnect::Printer::attach_storage;
%ignore prusaconnect::Printer::loop;  // printer.py waits interruptibly
%ignore prusaconnect::Printer::telemetry(const Telemetry&);
%ignore prusaconnect::PrinterOptions::network;
%ignore prusaconnect::Telemetry;
%ignore prusaconnect::RequestKind;
%ignore prusaconnect::RequestRecord;
%ignore prusaconnect::Filesystem::Filesystem;
%ignore prusaconnect::Filesystem::AttachProvider;
%ignore prusaconnect::Filesystem::AppendLegacyJson;
%ignore prusaconnect::Filesystem::set_printed_file_cb;
%ignore prusaconnect::Filesystem::Core;
%ignore prusaconnect::Filesystem::Stats;
%ignore prusaconnect::Filesystem::stats;
%ignore prusaconnect::StorageProvider;
%ignore prusaconnect::GcodeMetadata;
%ignore prusaconnect::Thumbnail;
%ignore prusaconnect::HasGcodeMetadata;
%ignore prusaconnect::ReadGcodeMetadata;
%ignore prusaconnect::EstimatedToSeconds;
%ignore prusaconnect::Condition::Condition;
%ignore prusaconnect::Condition::add_fixed_callback;
%ignore prusaconnect::Condition::add_broke_callback;
%ignore prusaconnect::Condition::remove_fixed_callback;
%ignore prusaconnect::Condition::remove_broke_callback;
%ignore prusaconnect::Condition::PostOrder;
%ignore prusaconnect::Condition::set_parent;
%ignore prusaconnect::Condition::operator bool;
%ignore prusaconnect::Conditions::Conditions;
%ignore prusaconnect::ConditionTracker::ConditionTracker;
%ignore prusaconnect::ConditionTracker::add_tracked_condition_tree;
%ignore prusaconnect::ConditionTracker::add_tracked_condition;
%ignore prusaconnect::ConditionTracker::remove_tracked_condition_tree;
%ignore prusaconnect::ConditionTracker::remove_tracked_condition;
%ignore prusaconnect::ConditionTracker::is_tracked;
%immutable prusaconnect::Conditions::tracker;
%nodefaultctor prusaconnect::ConditionTracker;
%ignore prusaconnect::CondStateName;
%ignore prusaconnect::CameraController::CameraController;
%ignore prusaconnect::CameraController::set_token_cb;
%ignore prusaconnect::CameraController::impl;
%ignore prusaconnect::ToString;
%ignore prusaconnect::kMaxSnapshotBytes;
%ignore prusaconnect::TransferInfo::ToJson;
%immutable prusaconnect::Conditions::INTERNET;
%immutable prusaconnect::Conditions::HTTP;
%immutable prusaconnect::Conditions::TOKEN;
%immutable prusaconnect::Conditions::API;
%nodefaultctor prusaconnect::Printer;
%nodefaultctor prusaconnect::Filesystem;
%nodefaultctor prusaconnect::Condition;
%nodefaultctor prusaconnect::Conditions;
%nodefaultctor prusaconnect::CameraController;

// Camera drivers are shared objects: made by the Make*Driver functions or
// PythonPrinter::python_camera_driver, handed to CameraConfig::driver.
%shared_ptr(prusaconnect::CameraDriver)

%py_object(prusaconnect::Node)
%py_object(prusaconnect::SheetSettings)
%py_object(prusaconnect::CommandRequest)
%py_object(prusaconnect::TransferInfo)
%py_object(prusaconnect::Resolution)
%py_object(prusaconnect::CameraStatus)

// Condition::parent() and children() return the printer's own conditions.
%typemap(out) std::vector<prusaconnect::Condition*> {
  const std::vector<prusaconnect::Condition*>& temp_vec = $1;
  $result = PyList_New(static_cast<Py_ssize_t>(temp_vec.size()));
  if ($result == nullptr) SWIG_fail;
  for (size_t i = 0; i < temp_vec.size(); ++i) {
    PyList_SET_ITEM($result, static_cast<Py_ssize_t>(i),
                    SWIG_NewPointerObj(temp_vec[i], $descriptor(prusaconnect::Condition*), 0));
  }
}

%include "prusaconnect/models.h"
%include "prusaconnect/transfer.h"
%include "prusaconnect/files.h"
%include "prusaconnect/conditions.h"
%include "prusaconnect/camera.h"
%include "prusaconnect/printer.h"
%include "py_printer.h"
%include "py_client.h"
