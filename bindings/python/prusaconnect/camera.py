"""Cameras: ``printer.camera_controller`` on libprusaconnect's cameras
(include/prusaconnect/camera.h, docs/CAMERAS.md).

Every camera has its own library thread that takes pictures on its trigger
scheme and uploads them to Connect (``PUT /c/snapshot``) with backoff on
failure. A camera's pictures come from a driver:

* the library's own, which run no Python at all: :class:`HttpSnapshotDriver`
  (mjpg-streamer, go2rtc, ESPHome...), :class:`CommandDriver` (a program
  writing one JPEG or PNG to stdout, e.g. ``libcamera-still``),
  :class:`FileDriver`, :class:`V4L2Driver`;
* or one written in Python: a subclass of :class:`Driver` whose
  ``take_a_photo()`` returns JPEG or PNG bytes, as the SDK's drivers do. It
  is called on the camera's thread with the GIL held for the call only, and
  may call back into the printer.

PNG images are converted to JPEG by the library. The camera model differs
from the SDK's ``Camera``/``CameraConfigurator`` classes (no INI persistence,
no driver scanning); the trigger schemes, registration and upload are the
SDK's (docs/PYTHON.md).

    from prusaconnect import Printer, const
    from prusaconnect.camera import HttpSnapshotDriver

    cameras = printer.camera_controller
    cameras.token_cb = lambda camera_id, fingerprint, token: save(token)
    cameras.add_camera("octopi", HttpSnapshotDriver(
        "http://octopi.local/webcam/?action=snapshot"), name="Bed camera")
    cameras.register_camera("octopi")       # once; keep the token
"""
import weakref
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from . import _prusaconnect as _lib
from .const import CapabilityType, TriggerScheme

__all__ = ["CameraController", "CameraOptions", "CameraState", "CameraStatus",
           "CommandDriver", "Driver", "FileDriver", "HttpSnapshotDriver",
           "UploadPolicy", "V4L2Driver"]

_MIB = 1024 * 1024


class UploadPolicy(Enum):
    """When cameras upload their automatic snapshots."""
    WHILE_PRINTING = "WHILE_PRINTING"  # printer PRINTING or PAUSED (default)
    ALWAYS = "ALWAYS"  # the SDK's behaviour


class CameraState(Enum):
    """What a camera is doing (``CameraStatus.state``)."""
    UNREGISTERED = "UNREGISTERED"  # no token: register_camera() first
    READY = "READY"  # waiting for its next trigger
    BUSY = "BUSY"  # capturing or uploading
    RETRYING = "RETRYING"  # the last capture or upload failed
    STOPPED = "STOPPED"  # Connect rejected its token: register it again
    STUCK = "STUCK"  # its driver has not returned for busy_timeout seconds


class Driver:
    """A camera driver written in Python. Override :meth:`take_a_photo`.

    ``take_a_photo()`` runs on the camera's library thread with the GIL
    held. It returns JPEG or PNG bytes (any bytes-like object); an exception
    counts as a failed capture, retried with backoff, and its repr becomes
    the camera's ``last_error``."""
    name = "python"

    def take_a_photo(self) -> bytes:
        """One image, JPEG or PNG."""
        raise NotImplementedError("a camera driver must implement take_a_photo()")


@dataclass(frozen=True)
class HttpSnapshotDriver:
    """A snapshot URL fetched by the library (no Python runs)."""
    url: str
    username: str = ""
    password: str = ""
    timeout: float = 5.0
    verify_tls: bool = True
    max_bytes: int = 32 * _MIB

    def _make(self):
        if not self.url:
            raise ValueError("url must be a snapshot URL")
        options = _lib.HttpSnapshotOptions()
        options.url = str(self.url)
        options.username = str(self.username)
        options.password = str(self.password)
        options.timeout_ms = _ms(self.timeout, "timeout")
        options.verify_tls = bool(self.verify_tls)
        options.max_bytes = _size(self.max_bytes, "max_bytes")
        return _lib.MakeHttpSnapshotDriver(options)


@dataclass(frozen=True)
class CommandDriver:
    """A program (run without a shell) that writes one JPEG or PNG image to
    its standard output, e.g. ``["libcamera-still", "-n", "-t", "1", "-o", "-"]``.
    It is killed when it runs longer than ``timeout`` seconds."""
    argv: Sequence[str]
    timeout: float = 10.0
    max_bytes: int = 32 * _MIB

    def _make(self):
        if isinstance(self.argv, (str, bytes)):
            raise TypeError("argv must be a list of str, not a string")
        if not self.argv:
            raise ValueError("argv must be a non-empty list of str")
        options = _lib.CommandOptions()
        options.argv = [str(arg) for arg in self.argv]
        options.timeout_ms = _ms(self.timeout, "timeout")
        options.max_bytes = _size(self.max_bytes, "max_bytes")
        return _lib.MakeCommandDriver(options)


@dataclass(frozen=True)
class FileDriver:
    """A JPEG or PNG file, read at every capture."""
    path: str

    def _make(self):
        if not self.path:
            raise ValueError("path must be a file path")
        return _lib.MakeFileDriver(str(self.path))


@dataclass(frozen=True)
class V4L2Driver:
    """A Video4Linux2 device (USB webcams: MJPEG or YUYV)."""
    device: str = "/dev/video0"
    width: int = 1280
    height: int = 720
    timeout: float = 5.0
    skip_frames: int = 2

    def _make(self):
        options = _lib.V4L2Options()
        options.device = str(self.device)
        options.width = int(self.width)
        options.height = int(self.height)
        options.timeout_ms = _ms(self.timeout, "timeout")
        options.skip_frames = int(self.skip_frames)
        return _lib.MakeV4L2Driver(options)


@dataclass(frozen=True)
class CameraStatus:
    """A camera's state and counters (``camera_controller.status(id)``)."""
    id: str
    name: str
    fingerprint: str
    trigger_scheme: TriggerScheme
    registered: bool
    state: CameraState
    last_error: str  # "" after a success
    snapshots_uploaded: int
    capture_failures: int
    upload_failures: int
    oversize_skipped: int
    triggers_skipped: int
    last_image_bytes: int
    last_upload_time: float  # Unix time of the last upload, 0: none


@dataclass(frozen=True)
class CameraOptions:
    """Settings shared by a printer's cameras (times in seconds)."""
    upload_policy: UploadPolicy = UploadPolicy.WHILE_PRINTING
    max_image_bytes: int = 8000000
    upload_timeout: float = 10.0
    backoff_min: float = 1.0
    backoff_max: float = 60.0
    jpeg_quality: int = 85
    busy_timeout: float = 20.0


def _ms(seconds: float, what: str) -> int:
    value = float(seconds)
    if not value > 0:
        raise ValueError(f"{what} must be positive")
    return max(1, int(round(value * 1000)))


def _size(value, what: str) -> int:
    value = int(value)
    if value < 0:
        raise ValueError(f"{what} must be a non-negative int")
    return value


def _scheme(value) -> str:
    if isinstance(value, TriggerScheme):
        return value.name
    if isinstance(value, str) and value in TriggerScheme.__members__:
        return value
    raise ValueError(f"not a TriggerScheme: {value!r}")


def _capability(value) -> str:
    if isinstance(value, CapabilityType):
        return value.value
    return CapabilityType(value).value


def _resolution(value, what: str):
    """A library Resolution of (width, height)."""
    try:
        width, height = value
        width, height = int(width), int(height)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a positive (width, height)") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"{what} must be a positive (width, height)")
    out = _lib.Resolution()
    out.width, out.height = width, height
    return out


def _status(raw) -> CameraStatus:
    """The library's CameraStatus as the package's."""
    values = {f.name: getattr(raw, f.name) for f in fields(CameraStatus)}
    values["trigger_scheme"] = TriggerScheme[values["trigger_scheme"]]
    values["state"] = CameraState[values["state"]]
    return CameraStatus(**values)


def _unknown(camera_id: str, error: Exception) -> KeyError:
    return KeyError(f"no camera {camera_id!r}: {error}")


class CameraController:
    """A printer's cameras (``printer.camera_controller``).

    Cameras start when added; a registered camera (``token`` given, or
    :meth:`register_camera` called) takes its first picture at once and
    then follows its trigger scheme: TEN_SEC/THIRTY_SEC/SIXTY_SEC by time,
    EACH_LAYER/FIFTH_LAYER on :meth:`layer_trigger`, MANUAL on
    :meth:`trigger`. Automatic snapshots are only uploaded while the
    printer prints, unless ``upload_policy`` is ALWAYS."""

    def __init__(self, printer):
        self._printer = weakref.ref(printer)
        self._drivers: Dict[str, Driver] = {}
        self.__token_cb: Optional[Callable[[str, str, str], Any]] = None

    def _printer_native(self):
        printer = self._printer()
        if printer is None:
            raise RuntimeError("the printer is gone")
        return printer._native  # pylint: disable=protected-access

    def _native(self):
        """The library's CameraController of the printer (camera.h)."""
        return self._printer_native().cameras()

    # ---- cameras ----
    def add_camera(self, camera_id: str, driver, *, name: Optional[str] = None,
                   trigger_scheme: TriggerScheme = TriggerScheme.THIRTY_SEC,
                   token: Optional[str] = None, fingerprint: Optional[str] = None,
                   capabilities: Optional[Iterable[CapabilityType]] = None,
                   resolutions: Optional[Iterable[Tuple[int, int]]] = None,
                   resolution: Optional[Tuple[int, int]] = None,
                   rotation: int = 0, exposure: float = 0.0, focus: float = 0.0,
                   printer_uuid: Optional[str] = None) -> None:
        """Adds a camera and starts it.

        ``driver`` is a :class:`Driver` (Python) or one of the library's
        drivers. ``fingerprint`` (16-64 letters and digits) must never change
        once the camera has uploaded; by default it is derived from the
        printer's fingerprint and ``camera_id``. ``token`` is the camera
        token of an earlier registration. ValueError for a bad setting
        (rotation not 0/90/180/270, exposure outside [-2, 2], focus outside
        [0, 1], a resolution not offered, no TRIGGER_SCHEME capability...),
        FileExistsError for a known id."""
        if not isinstance(camera_id, str):
            raise TypeError("camera_id must be a str")
        config = _lib.CameraConfig()
        config.id = camera_id
        config.name = name or ""
        config.fingerprint = fingerprint or ""
        config.token = token or ""
        config.trigger_scheme = _scheme(trigger_scheme)
        config.rotation = int(rotation)
        config.exposure = float(exposure)
        config.focus = float(focus)
        config.printer_uuid = printer_uuid or ""
        if capabilities is not None:
            config.capabilities = [_capability(c) for c in capabilities]
        if resolutions is not None:
            config.resolutions = [_resolution(r, "resolutions") for r in resolutions]
        if resolution is not None:
            config.resolution = _resolution(resolution, "resolution")
        printer_native = self._printer_native()
        if isinstance(driver, Driver):
            config.driver = printer_native.python_camera_driver(camera_id)
        elif hasattr(driver, "_make"):
            config.driver = driver._make()  # pylint: disable=protected-access
        else:
            raise TypeError(f"not a camera driver: {driver!r}")
        # Known before the library can call it (a registered camera captures
        # at once); forgotten again if the library refuses the camera.
        previous = self._drivers.get(camera_id)
        if isinstance(driver, Driver) and previous is None:
            self._drivers[camera_id] = driver
        try:
            printer_native.cameras().add_camera(config)
        except BaseException:
            if previous is None:
                self._drivers.pop(camera_id, None)
            raise

    def remove_camera(self, camera_id: str) -> None:
        """Stops and removes a camera, waiting for its capture in progress.
        KeyError for an unknown id."""
        try:
            self._native().remove_camera(camera_id)
        except FileNotFoundError as error:
            raise _unknown(camera_id, error) from None
        self._drivers.pop(camera_id, None)

    @property
    def camera_ids(self) -> List[str]:
        """The cameras' ids, in the order they were added."""
        return list(self._native().camera_ids())

    def status(self, camera_id: str) -> CameraStatus:
        """KeyError for an unknown id."""
        try:
            return _status(self._native().status(camera_id))
        except FileNotFoundError as error:
            raise _unknown(camera_id, error) from None

    def statuses(self) -> List[CameraStatus]:
        return [_status(raw) for raw in self._native().statuses()]

    def register_camera(self, camera_id: str) -> str:
        """Registers the camera with Connect (``POST /p/camera`` with the
        printer's token) and returns its token, which ``token_cb`` also
        receives; blocks for one request (the GIL released). The camera then
        takes its first picture. KeyError for an unknown id, RuntimeError
        when the printer has no server or token, ConnectionError when Connect
        cannot be reached, PermissionError when it refuses the printer."""
        try:
            return self._native().register_camera(camera_id)
        except FileNotFoundError as error:
            raise _unknown(camera_id, error) from None

    def set_trigger_scheme(self, camera_id: str, scheme: TriggerScheme) -> None:
        try:
            self._native().set_trigger_scheme(camera_id, _scheme(scheme))
        except FileNotFoundError as error:
            raise _unknown(camera_id, error) from None

    def layer_trigger(self) -> None:
        """The host's layer change (the SDK's name): EACH_LAYER cameras take
        a picture, FIFTH_LAYER cameras on every fifth call."""
        self._native().layer_changed()

    def trigger(self, camera_id: Optional[str] = None) -> None:
        """A picture now from one camera (every camera when None), whatever
        its scheme and the upload policy. KeyError for an unknown id."""
        try:
            self._native().trigger_manual(camera_id or "")
        except FileNotFoundError as error:
            raise _unknown(camera_id or "", error) from None

    # ---- settings ----
    @property
    def options(self) -> CameraOptions:
        raw = self._native().options()
        return CameraOptions(
            upload_policy=UploadPolicy(raw.policy),
            max_image_bytes=raw.max_image_bytes,
            upload_timeout=raw.upload_timeout_ms / 1000,
            backoff_min=raw.backoff_min_ms / 1000,
            backoff_max=raw.backoff_max_ms / 1000,
            jpeg_quality=raw.jpeg_quality,
            busy_timeout=raw.busy_timeout_ms / 1000)

    def set_options(self, **changes: Any) -> None:
        """Changes some of :class:`CameraOptions`, e.g.
        ``set_options(upload_policy=UploadPolicy.ALWAYS, backoff_min=0.5)``.
        TypeError for an unknown name, ValueError for a bad value."""
        known = {f.name for f in fields(CameraOptions)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown camera options: {', '.join(unknown)}")
        native = self._native()
        raw = native.options()
        for key, value in changes.items():
            if key == "upload_policy":
                raw.policy = UploadPolicy(value).value
            elif key == "max_image_bytes":
                raw.max_image_bytes = _size(value, key)
            elif key == "jpeg_quality":
                raw.jpeg_quality = int(value)
            else:
                setattr(raw, key + "_ms", _ms(value, key))
        native.set_options(raw)

    @property
    def upload_policy(self) -> UploadPolicy:
        return self.options.upload_policy

    @upload_policy.setter
    def upload_policy(self, value: UploadPolicy) -> None:
        self.set_options(upload_policy=value)

    @property
    def token_cb(self) -> Optional[Callable[[str, str, str], Any]]:
        """Called as ``token_cb(camera_id, fingerprint, token)`` on the
        bindings' callback thread when a camera gets a token, so the host can
        keep it (and the fingerprint) for the next start. An empty token
        means Connect rejected the camera's token: forget it and register
        the camera again."""
        return self.__token_cb

    @token_cb.setter
    def token_cb(self, value: Optional[Callable[[str, str, str], Any]]) -> None:
        self.__token_cb = value
        self._printer_native().watch_camera_tokens(value is not None)

    # ---- called by the library (through the Printer) ----
    def _capture(self, camera_id: str):
        driver = self._drivers.get(camera_id)
        if driver is None:
            raise LookupError(f"camera {camera_id!r} has no Python driver")
        return driver.take_a_photo()

    def _on_token(self, camera_id: str, fingerprint: str, token: str) -> None:
        callback = self.__token_cb
        if callback is not None:
            callback(camera_id, fingerprint, token)
