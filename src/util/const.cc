// Copyright 2026 The libprusaconnect Authors.
#include "prusaconnect/const.h"

#include <array>
#include <cstddef>

#include "util/ascii.h"

namespace prusaconnect {
namespace {

// One table per enum: the wire text of each enumerator in declaration order.
template <typename E>
struct Names;

// NOLINTNEXTLINE(bugprone-macro-parentheses): `E` is a type.
#define PC_NAMES(E, ...)                                  \
  template <>                                             \
  struct Names<E> {                                       \
    static constexpr const char* kText[] = {__VA_ARGS__}; \
    static constexpr size_t kCount = std::size(kText);    \
  };

PC_NAMES(State, "IDLE", "BUSY", "PRINTING", "PAUSED", "FINISHED", "STOPPED", "ERROR", "ATTENTION",
         "READY")
PC_NAMES(JobState, "PRINTING", "PAUSED", "FIN_STOPPED", "FIN_ERROR", "FIN_OK", "FIN_HARVESTED")
PC_NAMES(MMUType, "MMU3")
PC_NAMES(StorageType, "LOCAL", "SDCARD", "USB")
PC_NAMES(Event, "ACCEPTED", "REJECTED", "FAILED", "FINISHED", "INFO", "STATE_CHANGED",
         "MEDIUM_EJECTED", "MEDIUM_INSERTED", "FILE_CHANGED", "FILE_INFO", "JOB_INFO",
         "TRANSFER_INFO", "MESH_BED_DATA", "TRANSFER_ABORTED", "TRANSFER_STOPPED",
         "TRANSFER_FINISHED", "SLOT_EVENT")
PC_NAMES(Source, "CONNECT", "GUI", "WUI", "SERIAL", "GCODE", "MARLIN", "FIRMWARE", "HW", "USER",
         "SLOT")
PC_NAMES(Command, "SEND_INFO", "GCODE", "START_PRINT", "STOP_PRINT", "PAUSE_PRINT", "RESUME_PRINT",
         "SEND_FILE_INFO", "DELETE_FILE", "DELETE_FOLDER", "DELETE_DIRECTORY", "CREATE_FOLDER",
         "CREATE_DIRECTORY", "SEND_JOB_INFO", "SEND_STATE_INFO", "UPGRADE", "RESET_PRINTER",
         "START_URL_DOWNLOAD", "START_CONNECT_DOWNLOAD", "SEND_TRANSFER_INFO", "STOP_TRANSFER",
         "SET_PRINTER_READY", "CANCEL_PRINTER_READY", "SET_VALUE", "LOAD_FILAMENT",
         "UNLOAD_FILAMENT", "SLOT_ACTION", "DIALOG_ACTION")
PC_NAMES(TransferType, "NO_TRANSFER", "FROM_WEB", "FROM_CONNECT", "FROM_PRINTER", "FROM_SLICER",
         "FROM_CLIENT", "TO_CONNECT", "TO_CLIENT")
PC_NAMES(FileType, "PRINT_FILE", "FIRMWARE", "FILE", "FOLDER")
PC_NAMES(RegistrationStatus, "FINISHED", "IN_PROGRESS", "NO_REGISTRATION")
PC_NAMES(CapabilityType, "trigger_scheme", "imaging", "resolution", "rotation", "exposure", "focus")
PC_NAMES(TriggerScheme, "TEN_SEC", "THIRTY_SEC", "SIXTY_SEC", "EACH_LAYER", "FIFTH_LAYER", "MANUAL")
#undef PC_NAMES

template <typename E>
const char* NameOf(E v) {
  auto i = static_cast<size_t>(v);
  return i < Names<E>::kCount ? Names<E>::kText[i] : "";
}

template <typename E>
bool ParseName(std::string_view text, E* out) {
  for (size_t i = 0; i < Names<E>::kCount; ++i) {
    if (text == Names<E>::kText[i]) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

template <typename E>
std::vector<E> MakeAll() {
  std::vector<E> all;
  for (size_t i = 0; i < Names<E>::kCount; ++i) all.push_back(static_cast<E>(i));
  return all;
}

}  // namespace

const std::vector<std::string>& GcodeExtensions() {
  static const auto* v = new std::vector<std::string>{".gcode", ".gc", ".g", ".gco"};
  return *v;
}
const std::vector<std::string>& SlExtensions() {
  static const auto* v = new std::vector<std::string>{".sl1"};
  return *v;
}
const std::vector<std::string>& ForbiddenCharacters() {
  static const auto* v =
      new std::vector<std::string>{"\\", "?", "\"", "%", "\u00AF", "\u00B0", "#", "\u02C7"};
  return *v;
}

// NOLINTBEGIN(bugprone-macro-parentheses): `E` is a type.
#define PC_DEFINE(E)                                                         \
  const char* ToString(E v) { return NameOf(v); }                            \
  bool Parse(std::string_view text, E* out) { return ParseName(text, out); } \
  template <>                                                                \
  PRUSACONNECT_API const std::vector<E>& AllValues<E>() {                    \
    static const auto* all = new std::vector<E>(MakeAll<E>());               \
    return *all;                                                             \
  }
PC_DEFINE(State)
PC_DEFINE(JobState)
PC_DEFINE(MMUType)
PC_DEFINE(StorageType)
PC_DEFINE(Event)
PC_DEFINE(Source)
PC_DEFINE(Command)
PC_DEFINE(TransferType)
PC_DEFINE(FileType)
PC_DEFINE(RegistrationStatus)
PC_DEFINE(CapabilityType)
PC_DEFINE(TriggerScheme)
#undef PC_DEFINE
// NOLINTEND(bugprone-macro-parentheses)

const char* Description(TriggerScheme v) {
  switch (v) {
    case TriggerScheme::TEN_SEC:
      return "Every 10 seconds";
    case TriggerScheme::THIRTY_SEC:
      return "Every 30 seconds";
    case TriggerScheme::SIXTY_SEC:
      return "Every 60 seconds";
    case TriggerScheme::EACH_LAYER:
      return "On layer change";
    case TriggerScheme::FIFTH_LAYER:
      return "On every fifth layer change";
    case TriggerScheme::MANUAL:
      return "Manual";
  }
  return "";
}

int TriggerSchemeSeconds(TriggerScheme v) {
  switch (v) {
    case TriggerScheme::TEN_SEC:
      return 10;
    case TriggerScheme::THIRTY_SEC:
      return 30;
    case TriggerScheme::SIXTY_SEC:
      return 60;
    default:
      return 0;
  }
}

bool IsPriorityCommand(Command c) { return c == Command::RESET_PRINTER; }

int MmuSlotCount(MMUType t) {
  switch (t) {
    case MMUType::MMU3:
      return 5;
  }
  return 0;
}

const PrinterType PrinterType::I3MK25(1, 2, 5);
const PrinterType PrinterType::I3MK25S(1, 2, 6);
const PrinterType PrinterType::I3MK3(1, 3, 0);
const PrinterType PrinterType::I3MK3S(1, 3, 1);
const PrinterType PrinterType::SL1(5, 1, 0);
const PrinterType PrinterType::SL1S(5, 1, 1);
const PrinterType PrinterType::M1(5, 2, 0);
const PrinterType PrinterType::HT90(6, 1, 0);

namespace {
struct NamedType {
  const char* name;
  PrinterType type;
};
constexpr NamedType kPrinterTypes[] = {
    {"I3MK25", {1, 2, 5}}, {"I3MK25S", {1, 2, 6}}, {"I3MK3", {1, 3, 0}}, {"I3MK3S", {1, 3, 1}},
    {"SL1", {5, 1, 0}},    {"SL1S", {5, 1, 1}},    {"M1", {5, 2, 0}},    {"HT90", {6, 1, 0}},
};
}  // namespace

std::string PrinterType::ToString() const {
  return std::to_string(type_) + "." + std::to_string(version_) + "." + std::to_string(subversion_);
}

std::string PrinterType::Name() const {
  for (const NamedType& t : kPrinterTypes) {
    if (t.type == *this) return t.name;
  }
  return "";
}

std::optional<PrinterType> PrinterType::FromString(std::string_view text) {
  for (const NamedType& t : kPrinterTypes) {
    if (text == t.name) return t.type;
  }
  size_t a = text.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = text.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  int t = 0, v = 0, s = 0;
  // Each part is 1 to 6 digits: type, version and subversion are small.
  if (!internal::ParseDigits(text.substr(0, a), 6, &t) ||
      !internal::ParseDigits(text.substr(a + 1, b - a - 1), 6, &v) ||
      !internal::ParseDigits(text.substr(b + 1), 6, &s)) {
    return std::nullopt;
  }
  return PrinterType(t, v, s);
}

const std::vector<PrinterType>& PrinterType::All() {
  static const auto* all = [] {
    auto* v = new std::vector<PrinterType>();
    for (const NamedType& t : kPrinterTypes) v->push_back(t.type);
    return v;
  }();
  return *all;
}

}  // namespace prusaconnect
