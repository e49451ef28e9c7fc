// Copyright 2026 The libprusaconnect Authors.
//
// The constants of the Prusa Connect printer protocol: the C++ counterpart of
// the reference SDK's `prusa.connect.printer.const` module.
//
// Every enumerator carries the SDK's exact name, and ToString() returns the
// exact wire value (which for these enums is the name). Parse functions
// return false for unknown text and leave the output untouched.
//
// Everything here is immutable and safe to use from any thread.
#ifndef PRUSACONNECT_CONST_H_
#define PRUSACONNECT_CONST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prusaconnect/export.h"

namespace prusaconnect {

// ---- scalar constants (const.py) ----
inline constexpr double TIMESTAMP_PRECISION = 0.1;
inline constexpr int CONNECTION_TIMEOUT = 10;   // seconds, every HTTP call
inline constexpr int CAMERA_WAIT_TIMEOUT = 3;   // seconds
inline constexpr int ONE_SECOND_TIMEOUT = 1;    // seconds
inline constexpr int CAMERA_BUSY_TIMEOUT = 20;  // seconds
inline constexpr int FILENAME_LENGTH = 248;     // max basename length, UTF-8 bytes
inline constexpr int MAX_NAME_LENGTH = 255;     // max path component, characters
inline constexpr int CODE_TIMEOUT = 1800;       // seconds a registration code lives
inline constexpr const char* FIRMWARE_EXTENSION = ".hex";
inline constexpr const char* SDK_VERSION = "0.8.1";  // the SDK version we speak
// G-code file extensions (compared case-insensitively).
PRUSACONNECT_API const std::vector<std::string>& GcodeExtensions();  // .gcode .gc .g .gco
PRUSACONNECT_API const std::vector<std::string>& SlExtensions();     // .sl1
// Characters refused in file names: \ ? " % ¯ ° # ˇ (as UTF-8 strings).
PRUSACONNECT_API const std::vector<std::string>& ForbiddenCharacters();

// ---- enums ----
enum class State { IDLE, BUSY, PRINTING, PAUSED, FINISHED, STOPPED, ERROR, ATTENTION, READY };

enum class JobState { PRINTING, PAUSED, FIN_STOPPED, FIN_ERROR, FIN_OK, FIN_HARVESTED };

enum class MMUType { MMU3 };

enum class StorageType { LOCAL, SDCARD, USB };

enum class Event {
  ACCEPTED,
  REJECTED,
  FAILED,
  FINISHED,
  INFO,
  STATE_CHANGED,
  MEDIUM_EJECTED,
  MEDIUM_INSERTED,
  FILE_CHANGED,
  FILE_INFO,
  JOB_INFO,
  TRANSFER_INFO,
  MESH_BED_DATA,
  TRANSFER_ABORTED,
  TRANSFER_STOPPED,
  TRANSFER_FINISHED,
  SLOT_EVENT,
};

enum class Source { CONNECT, GUI, WUI, SERIAL, GCODE, MARLIN, FIRMWARE, HW, USER, SLOT };

enum class Command {
  SEND_INFO,
  GCODE,
  START_PRINT,
  STOP_PRINT,
  PAUSE_PRINT,
  RESUME_PRINT,
  SEND_FILE_INFO,
  DELETE_FILE,
  DELETE_FOLDER,
  DELETE_DIRECTORY,
  CREATE_FOLDER,
  CREATE_DIRECTORY,
  SEND_JOB_INFO,
  SEND_STATE_INFO,
  UPGRADE,
  RESET_PRINTER,
  START_URL_DOWNLOAD,
  START_CONNECT_DOWNLOAD,
  SEND_TRANSFER_INFO,
  STOP_TRANSFER,
  SET_PRINTER_READY,
  CANCEL_PRINTER_READY,
  SET_VALUE,
  LOAD_FILAMENT,
  UNLOAD_FILAMENT,
  SLOT_ACTION,
  DIALOG_ACTION,
};

enum class TransferType {
  NO_TRANSFER,
  FROM_WEB,
  FROM_CONNECT,
  FROM_PRINTER,
  FROM_SLICER,
  FROM_CLIENT,
  TO_CONNECT,
  TO_CLIENT,
};

enum class FileType { PRINT_FILE, FIRMWARE, FILE, FOLDER };

enum class RegistrationStatus { FINISHED, IN_PROGRESS, NO_REGISTRATION };

enum class CapabilityType { TRIGGER_SCHEME, IMAGING, RESOLUTION, ROTATION, EXPOSURE, FOCUS };

// Trigger schemes travel by *name* on the wire; Description() gives the SDK's
// human-readable value ("Every 30 seconds").
enum class TriggerScheme { TEN_SEC, THIRTY_SEC, SIXTY_SEC, EACH_LAYER, FIFTH_LAYER, MANUAL };

// Wire text of each enumerator.
PRUSACONNECT_API const char* ToString(State v);
PRUSACONNECT_API const char* ToString(JobState v);
PRUSACONNECT_API const char* ToString(MMUType v);
PRUSACONNECT_API const char* ToString(StorageType v);
PRUSACONNECT_API const char* ToString(Event v);
PRUSACONNECT_API const char* ToString(Source v);
PRUSACONNECT_API const char* ToString(Command v);
PRUSACONNECT_API const char* ToString(TransferType v);
PRUSACONNECT_API const char* ToString(FileType v);
PRUSACONNECT_API const char* ToString(RegistrationStatus v);
PRUSACONNECT_API const char* ToString(CapabilityType v);    // lower case: "trigger_scheme", ...
PRUSACONNECT_API const char* ToString(TriggerScheme v);     // the member name: "THIRTY_SEC"
PRUSACONNECT_API const char* Description(TriggerScheme v);  // "Every 30 seconds"
// Seconds between snapshots for the timed schemes, 0 for the others.
PRUSACONNECT_API int TriggerSchemeSeconds(TriggerScheme v);

// Parse wire text. Return true and set *out on success.
PRUSACONNECT_API bool Parse(std::string_view text, State* out);
PRUSACONNECT_API bool Parse(std::string_view text, JobState* out);
PRUSACONNECT_API bool Parse(std::string_view text, MMUType* out);
PRUSACONNECT_API bool Parse(std::string_view text, StorageType* out);
PRUSACONNECT_API bool Parse(std::string_view text, Event* out);
PRUSACONNECT_API bool Parse(std::string_view text, Source* out);
PRUSACONNECT_API bool Parse(std::string_view text, Command* out);
PRUSACONNECT_API bool Parse(std::string_view text, TransferType* out);
PRUSACONNECT_API bool Parse(std::string_view text, FileType* out);
PRUSACONNECT_API bool Parse(std::string_view text, RegistrationStatus* out);
PRUSACONNECT_API bool Parse(std::string_view text, CapabilityType* out);
PRUSACONNECT_API bool Parse(std::string_view text, TriggerScheme* out);

// All enumerators in declaration order (for bindings and tests).
template <typename E>
PRUSACONNECT_API const std::vector<E>& AllValues();

// Commands that preempt a running command (only RESET_PRINTER).
PRUSACONNECT_API bool IsPriorityCommand(Command c);

// Number of filament slots of an MMU type (MMU3: 5).
PRUSACONNECT_API int MmuSlotCount(MMUType t);

// The printer model as the triple (type, version, subversion); str() of the
// SDK's PrinterType is "<type>.<version>.<subversion>".
class PRUSACONNECT_API PrinterType {
 public:
  constexpr PrinterType(int type, int version, int subversion) noexcept
      : type_(type), version_(version), subversion_(subversion) {}

  static const PrinterType I3MK25;   // 1.2.5
  static const PrinterType I3MK25S;  // 1.2.6
  static const PrinterType I3MK3;    // 1.3.0
  static const PrinterType I3MK3S;   // 1.3.1
  static const PrinterType SL1;      // 5.1.0
  static const PrinterType SL1S;     // 5.1.1
  static const PrinterType M1;       // 5.2.0
  static const PrinterType HT90;     // 6.1.0

  int type() const { return type_; }
  int version() const { return version_; }
  int subversion() const { return subversion_; }
  // "1.3.0"
  std::string ToString() const;
  // The SDK member name ("I3MK3"), or "" for a triple without one.
  std::string Name() const;

  // Accepts a member name ("I3MK3S") or a dotted triple ("1.3.1").
  static std::optional<PrinterType> FromString(std::string_view text);
  // The SDK's members, in declaration order.
  static const std::vector<PrinterType>& All();

  friend bool operator==(const PrinterType& a, const PrinterType& b) {
    return a.type_ == b.type_ && a.version_ == b.version_ && a.subversion_ == b.subversion_;
  }
  friend bool operator!=(const PrinterType& a, const PrinterType& b) { return !(a == b); }

 private:
  int type_;
  int version_;
  int subversion_;
};

}  // namespace prusaconnect

#endif  // PRUSACONNECT_CONST_H_
