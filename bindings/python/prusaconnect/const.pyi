from enum import Enum
from typing import Dict, Set, Tuple

TIMESTAMP_PRECISION: float
CONNECTION_TIMEOUT: int
CAMERA_WAIT_TIMEOUT: int
ONE_SECOND_TIMEOUT: int
GCODE_EXTENSIONS: Tuple[str, ...]
FIRMWARE_EXTENSION: str
SL_EXTENSIONS: Tuple[str, ...]
CAMERA_BUSY_TIMEOUT: int
FILENAME_LENGTH: int
MAX_NAME_LENGTH: int
FORBIDDEN_CHARACTERS: Tuple[str, ...]

class State(Enum):
    IDLE = "IDLE"
    BUSY = "BUSY"
    PRINTING = "PRINTING"
    PAUSED = "PAUSED"
    FINISHED = "FINISHED"
    STOPPED = "STOPPED"
    ERROR = "ERROR"
    ATTENTION = "ATTENTION"
    READY = "READY"

class JobState(Enum):
    PRINTING = "PRINTING"
    PAUSED = "PAUSED"
    FIN_STOPPED = "FIN_STOPPED"
    FIN_ERROR = "FIN_ERROR"
    FIN_OK = "FIN_OK"
    FIN_HARVESTED = "FIN_HARVESTED"

class PrinterType(Enum):
    I3MK25 = (1, 2, 5)
    I3MK25S = (1, 2, 6)
    I3MK3 = (1, 3, 0)
    I3MK3S = (1, 3, 1)
    SL1 = (5, 1, 0)
    SL1S = (5, 1, 1)
    M1 = (5, 2, 0)
    HT90 = (6, 1, 0)
    @property
    def value(self) -> Tuple[int, int, int]: ...

class MMUType(Enum):
    MMU3 = "MMU3"

MMU_SLOT_COUNTS: Dict[MMUType, int]

class StorageType(Enum):
    LOCAL = "LOCAL"
    SDCARD = "SDCARD"
    USB = "USB"

class Event(Enum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    FINISHED = "FINISHED"
    INFO = "INFO"
    STATE_CHANGED = "STATE_CHANGED"
    MEDIUM_EJECTED = "MEDIUM_EJECTED"
    MEDIUM_INSERTED = "MEDIUM_INSERTED"
    FILE_CHANGED = "FILE_CHANGED"
    FILE_INFO = "FILE_INFO"
    JOB_INFO = "JOB_INFO"
    TRANSFER_INFO = "TRANSFER_INFO"
    MESH_BED_DATA = "MESH_BED_DATA"
    TRANSFER_ABORTED = "TRANSFER_ABORTED"
    TRANSFER_STOPPED = "TRANSFER_STOPPED"
    TRANSFER_FINISHED = "TRANSFER_FINISHED"
    SLOT_EVENT = "SLOT_EVENT"

class Source(Enum):
    CONNECT = "CONNECT"
    GUI = "GUI"
    WUI = "WUI"
    SERIAL = "SERIAL"
    GCODE = "GCODE"
    MARLIN = "MARLIN"
    FIRMWARE = "FIRMWARE"
    HW = "HW"
    USER = "USER"
    SLOT = "SLOT"

class Command(Enum):
    SEND_INFO = "SEND_INFO"
    GCODE = "GCODE"
    START_PRINT = "START_PRINT"
    STOP_PRINT = "STOP_PRINT"
    PAUSE_PRINT = "PAUSE_PRINT"
    RESUME_PRINT = "RESUME_PRINT"
    SEND_FILE_INFO = "SEND_FILE_INFO"
    DELETE_FILE = "DELETE_FILE"
    DELETE_FOLDER = "DELETE_FOLDER"
    DELETE_DIRECTORY = "DELETE_DIRECTORY"
    CREATE_FOLDER = "CREATE_FOLDER"
    CREATE_DIRECTORY = "CREATE_DIRECTORY"
    SEND_JOB_INFO = "SEND_JOB_INFO"
    SEND_STATE_INFO = "SEND_STATE_INFO"
    UPGRADE = "UPGRADE"
    RESET_PRINTER = "RESET_PRINTER"
    START_URL_DOWNLOAD = "START_URL_DOWNLOAD"
    START_CONNECT_DOWNLOAD = "START_CONNECT_DOWNLOAD"
    SEND_TRANSFER_INFO = "SEND_TRANSFER_INFO"
    STOP_TRANSFER = "STOP_TRANSFER"
    SET_PRINTER_READY = "SET_PRINTER_READY"
    CANCEL_PRINTER_READY = "CANCEL_PRINTER_READY"
    SET_VALUE = "SET_VALUE"
    LOAD_FILAMENT = "LOAD_FILAMENT"
    UNLOAD_FILAMENT = "UNLOAD_FILAMENT"
    SLOT_ACTION = "SLOT_ACTION"
    DIALOG_ACTION = "DIALOG_ACTION"

class TransferType(Enum):
    NO_TRANSFER = "NO_TRANSFER"
    FROM_WEB = "FROM_WEB"
    FROM_CONNECT = "FROM_CONNECT"
    FROM_PRINTER = "FROM_PRINTER"
    FROM_SLICER = "FROM_SLICER"
    FROM_CLIENT = "FROM_CLIENT"
    TO_CONNECT = "TO_CONNECT"
    TO_CLIENT = "TO_CLIENT"

class FileType(Enum):
    PRINT_FILE = "PRINT_FILE"
    FIRMWARE = "FIRMWARE"
    FILE = "FILE"
    FOLDER = "FOLDER"

class RegistrationStatus(Enum):
    FINISHED = "FINISHED"
    IN_PROGRESS = "IN_PROGRESS"
    NO_REGISTRATION = "NO_REGISTRATION"

PRIORITY_COMMANDS: Set[Command]
METADATA_MAX_OFFSET: int
METADATA_CHUNK_SIZE: int
COMMENT_BLOCK_MAX_SIZE: int

class NotSupported(Exception): ...
class CameraBusy(Exception): ...
class DriverError(RuntimeError): ...
class ConfigError(RuntimeError): ...
class CameraAlreadyConnected(RuntimeError): ...
class CameraNotFound(RuntimeError): ...
class CameraNotDetected(RuntimeError): ...
class ReadyTimeoutError(RuntimeError): ...

ALWAYS_REQURIED: Dict[str, str]

class CapabilityType(Enum):
    TRIGGER_SCHEME = "trigger_scheme"
    IMAGING = "imaging"
    RESOLUTION = "resolution"
    ROTATION = "rotation"
    EXPOSURE = "exposure"
    FOCUS = "focus"

class TriggerScheme(Enum):
    TEN_SEC = "Every 10 seconds"
    THIRTY_SEC = "Every 30 seconds"
    SIXTY_SEC = "Every 60 seconds"
    EACH_LAYER = "On layer change"
    FIFTH_LAYER = "On every fifth layer change"
    MANUAL = "Manual"

TRIGGER_SCHEME_TO_SECONDS: Dict[TriggerScheme, int]
DEFAULT_CAMERA_SETTINGS: Dict[str, object]
CameraConfigs = Dict[str, Dict[str, str]]
