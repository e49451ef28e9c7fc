"""Constants and enums of the Prusa Connect printer protocol.

The same names and values as the reference SDK's ``prusa.connect.printer.const``
(prusa-connect-sdk-printer 0.8.1, at the commit the project's specification
describes, 352caef, which has Command.SET_VALUE): every enum is an :class:`enum.Enum` whose
members carry the SDK's names and ``.value``\\ s, so code written for the SDK
compares, prints and serialises them unchanged. The tests check these lists
against the C++ library's (``_prusaconnect.enum_names``).
"""
from enum import Enum
from typing import Dict

TIMESTAMP_PRECISION = 0.1  # 100ms
CONNECTION_TIMEOUT = 10  # 10s
CAMERA_WAIT_TIMEOUT = 3  # 3s
ONE_SECOND_TIMEOUT = 1  # 1s
GCODE_EXTENSIONS = (".gcode", ".gc", ".g", ".gco")
FIRMWARE_EXTENSION = ".hex"
SL_EXTENSIONS = (".sl1", )
CAMERA_BUSY_TIMEOUT = 20  # 20s

# Maximum length of a file name in UTF-8 bytes, including the suffix
FILENAME_LENGTH = 248

# Maximum length of one path component, in characters
MAX_NAME_LENGTH = 255

# Characters forbidden in file names and paths
FORBIDDEN_CHARACTERS = ('\\', '?', '"', '%', '¯', '°', '#', 'ˇ')


class State(Enum):
    """The printer's state."""
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
    """The state of a job."""
    PRINTING = "PRINTING"
    PAUSED = "PAUSED"
    FIN_STOPPED = "FIN_STOPPED"
    FIN_ERROR = "FIN_ERROR"
    FIN_OK = "FIN_OK"
    FIN_HARVESTED = "FIN_HARVESTED"


class PrinterType(Enum):
    """The printer model: (type, version, subversion)."""
    I3MK25 = (1, 2, 5)
    I3MK25S = (1, 2, 6)
    I3MK3 = (1, 3, 0)
    I3MK3S = (1, 3, 1)
    SL1 = (5, 1, 0)
    SL1S = (5, 1, 1)
    M1 = (5, 2, 0)
    HT90 = (6, 1, 0)

    def __str__(self):
        # pylint: disable=not-an-iterable
        return '.'.join(str(i) for i in self.value)


class MMUType(Enum):
    """MMU type."""
    MMU3 = "MMU3"


MMU_SLOT_COUNTS: Dict[MMUType, int] = {
    MMUType.MMU3: 5,
}


class StorageType(Enum):
    """Storage type."""
    LOCAL = 'LOCAL'
    SDCARD = 'SDCARD'
    USB = 'USB'


class Event(Enum):
    """Events known by Connect."""
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
    """Who caused an event."""
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
    """Commands Connect sends."""
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
    """File transfer types."""
    NO_TRANSFER = "NO_TRANSFER"
    FROM_WEB = "FROM_WEB"  # from a URL
    FROM_CONNECT = "FROM_CONNECT"  # from a URL through Connect
    FROM_PRINTER = "FROM_PRINTER"  # from a URL of another printer
    FROM_SLICER = "FROM_SLICER"  # from a slicer
    FROM_CLIENT = "FROM_CLIENT"  # from a computer
    TO_CONNECT = "TO_CONNECT"  # uploading to Connect
    TO_CLIENT = "TO_CLIENT"  # downloading to a computer


class FileType(Enum):
    """File type."""
    PRINT_FILE = 'PRINT_FILE'
    FIRMWARE = 'FIRMWARE'
    FILE = 'FILE'
    FOLDER = 'FOLDER'


class RegistrationStatus(Enum):
    """Status of the registration to Connect."""
    FINISHED = "FINISHED"  # registered
    IN_PROGRESS = "IN_PROGRESS"  # a code exists, waiting for the user
    NO_REGISTRATION = "NO_REGISTRATION"  # no code


# Commands that preempt a running command
PRIORITY_COMMANDS = {Command.RESET_PRINTER}

METADATA_MAX_OFFSET = 2000  # bytes from the start and end of a file
METADATA_CHUNK_SIZE = 200
COMMENT_BLOCK_MAX_SIZE = 1000000  # at most 1 MB of comments

# --- Cameras ---


class NotSupported(Exception):
    """A camera setting is not supported."""


class CameraBusy(Exception):
    """The camera is busy and cannot do as told."""


class DriverError(RuntimeError):
    """The camera driver failed."""


class ConfigError(RuntimeError):
    """The camera configuration makes no sense."""


class CameraAlreadyConnected(RuntimeError):
    """The camera is already connected."""


class CameraNotFound(RuntimeError):
    """The camera cannot be found."""


class CameraNotDetected(RuntimeError):
    """A camera added by its id only is not among the detected ones."""


class ReadyTimeoutError(RuntimeError):
    """Timed out waiting for a camera to become ready."""


# Settings every camera configuration needs
ALWAYS_REQURIED = {
    "name": "The camera name. The more unique the better.",
    "driver": "Which driver to give this setting to",
}


class CapabilityType(Enum):
    """Camera capabilities."""
    TRIGGER_SCHEME = "trigger_scheme"  # can be triggered
    IMAGING = "imaging"  # returns images
    RESOLUTION = "resolution"  # resolution can be set
    ROTATION = "rotation"  # images can be rotated
    EXPOSURE = "exposure"  # exposure compensation can be changed
    FOCUS = "focus"  # the focal point can be changed


class TriggerScheme(Enum):
    """When to take a snapshot."""
    TEN_SEC = "Every 10 seconds"
    THIRTY_SEC = "Every 30 seconds"  # the default
    SIXTY_SEC = "Every 60 seconds"
    EACH_LAYER = "On layer change"
    FIFTH_LAYER = "On every fifth layer change"
    MANUAL = "Manual"


TRIGGER_SCHEME_TO_SECONDS = {
    TriggerScheme.TEN_SEC: 10,
    TriggerScheme.THIRTY_SEC: 30,
    TriggerScheme.SIXTY_SEC: 60,
}

# Camera settings used when a camera does not supply its own
DEFAULT_CAMERA_SETTINGS = {
    CapabilityType.TRIGGER_SCHEME.value: TriggerScheme.THIRTY_SEC,
    CapabilityType.EXPOSURE.value: 0,
    CapabilityType.ROTATION.value: 0,
}

CameraConfigs = Dict[str, Dict[str, str]]
