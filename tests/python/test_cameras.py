"""Cameras through the bindings (prusaconnect.camera) against the emulator:
Python and library drivers, registration, uploads, errors, and Python
drivers that call back into the printer or are removed mid-capture."""
import http.server
import struct
import threading
import zlib

import pytest

from conftest import wait_for
from prusaconnect import _prusaconnect, const
from prusaconnect.camera import (CameraState, CommandDriver, Driver, FileDriver,
                                 HttpSnapshotDriver, UploadPolicy)

WAIT_LIMIT = 30.0
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


def png(width=4, height=3):
    """A valid RGB PNG made with zlib only."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + bytes([200, 40, 40]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Frames(Driver):
    """Returns `image` (or raises `error`) and counts its calls."""

    def __init__(self, image=JPEG, error=None):
        self.image = image
        self.error = error
        self.calls = 0

    def take_a_photo(self):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.image


def uploaded(emulator, fingerprint):
    """The emulator's record of a camera (by camera fingerprint), or None."""
    for camera in emulator.api("GET", "/api/cameras"):
        if camera["fingerprint"] == fingerprint:
            return camera
    return None


def test_python_driver_registers_and_uploads(emulator, make_printer):
    printer = make_printer()
    cameras = printer.camera_controller
    tokens = []
    cameras.token_cb = lambda *args: tokens.append(args)
    driver = Frames()
    cameras.add_camera("bed", driver, name="Bed camera",
                       trigger_scheme=const.TriggerScheme.MANUAL)
    assert cameras.camera_ids == ["bed"]
    status = cameras.status("bed")
    assert status.state is CameraState.UNREGISTERED and not status.registered
    assert status.name == "Bed camera"
    assert status.trigger_scheme is const.TriggerScheme.MANUAL
    assert len(status.fingerprint) == 40

    token = cameras.register_camera("bed")
    assert token
    assert wait_for(lambda: tokens) == [("bed", status.fingerprint, token)]
    record = uploaded(emulator, status.fingerprint)
    assert record["token"] == token
    assert record["printer_fingerprint"] == printer.fingerprint
    assert record["registration"]["config"]["name"] == "Bed camera"
    assert record["registration"]["config"]["camera_id"] == "bed"
    assert record["registration"]["config"]["trigger_scheme"] == "MANUAL"

    cameras.trigger("bed")
    assert wait_for(lambda: cameras.status("bed").snapshots_uploaded >= 1)
    sent = cameras.status("bed").snapshots_uploaded
    record = uploaded(emulator, status.fingerprint)
    # Connect has every upload the camera counts (the registration's first
    # snapshot may add one more meanwhile).
    assert record["snapshot_count"] >= sent
    assert record["last_snapshot_size"] == len(JPEG)
    assert record["last_content_type"] == "image/jpg"
    assert driver.calls >= 1
    status = cameras.status("bed")
    assert status.registered and status.last_error == ""
    assert status.last_image_bytes == len(JPEG) and status.last_upload_time > 0
    assert [s.id for s in cameras.statuses()] == ["bed"]

    cameras.remove_camera("bed")
    assert cameras.camera_ids == []


def test_png_from_a_python_driver_is_sent_as_jpeg(emulator, make_printer):
    printer = make_printer()
    cameras = printer.camera_controller
    image = png()
    cameras.add_camera("png", Frames(image), trigger_scheme=const.TriggerScheme.MANUAL)
    cameras.register_camera("png")
    cameras.trigger("png")
    assert wait_for(lambda: cameras.status("png").snapshots_uploaded >= 1)
    record = uploaded(emulator, cameras.status("png").fingerprint)
    assert record["last_snapshot_size"] == cameras.status("png").last_image_bytes
    assert record["last_snapshot_size"] != len(image)


def test_a_raising_driver_is_a_failed_capture_with_its_repr(emulator, make_printer):
    printer = make_printer()
    cameras = printer.camera_controller
    cameras.add_camera("capped", Frames(error=RuntimeError("lens cap on")),
                       trigger_scheme=const.TriggerScheme.MANUAL)
    cameras.register_camera("capped")
    cameras.trigger("capped")
    status = wait_for(lambda: (lambda s: s if s.capture_failures >= 1 else None)(
        cameras.status("capped")))
    assert status.capture_failures >= 1
    assert "RuntimeError('lens cap on')" in status.last_error
    assert status.snapshots_uploaded == 0
    assert uploaded(emulator, status.fingerprint)["snapshot_count"] == 0


@pytest.mark.parametrize("image, message", [
    ("not bytes", "must return bytes"),
    (None, "must return bytes"),
    (b"GIF89a....", "not a JPEG or PNG image"),
])
def test_a_driver_returning_no_image_is_a_clear_error(emulator, make_printer, image, message):
    printer = make_printer()
    cameras = printer.camera_controller
    cameras.add_camera("odd", Frames(image), trigger_scheme=const.TriggerScheme.MANUAL)
    cameras.register_camera("odd")
    cameras.trigger("odd")
    status = wait_for(lambda: (lambda s: s if s.capture_failures >= 1 else None)(
        cameras.status("odd")))
    assert message in status.last_error
    assert status.snapshots_uploaded == 0


def test_library_drivers_file_command_and_http(emulator, make_printer, tmp_path):
    image_file = tmp_path / "snapshot.jpg"
    image_file.write_bytes(JPEG)

    class Snapshot(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Snapshot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        printer = make_printer()
        cameras = printer.camera_controller
        drivers = {
            "file": FileDriver(str(image_file)),
            "command": CommandDriver(["/bin/cat", str(image_file)], timeout=10),
            "http": HttpSnapshotDriver(f"http://127.0.0.1:{server.server_address[1]}/snap"),
        }
        for camera_id, driver in drivers.items():
            cameras.add_camera(camera_id, driver, trigger_scheme=const.TriggerScheme.MANUAL)
            cameras.register_camera(camera_id)
        cameras.trigger()  # every camera
        for camera_id in drivers:
            assert wait_for(lambda: cameras.status(camera_id).snapshots_uploaded >= 1), camera_id
            record = uploaded(emulator, cameras.status(camera_id).fingerprint)
            assert record["last_snapshot_size"] == len(JPEG)
    finally:
        server.shutdown()
        server.server_close()


def test_bad_settings_and_unknown_ids(make_printer):
    printer = make_printer(start=False)
    cameras = printer.camera_controller
    with pytest.raises(ValueError):
        cameras.add_camera("c", Frames(), rotation=45)
    with pytest.raises(ValueError):
        cameras.add_camera("c", Frames(), exposure=3.0)
    with pytest.raises(ValueError):
        cameras.add_camera("c", Frames(), resolutions=[(640, 480)], resolution=(1, 1))
    with pytest.raises(ValueError):
        cameras.add_camera("c", Frames(), capabilities=[const.CapabilityType.IMAGING])
    with pytest.raises(ValueError):
        cameras.add_camera("c", Frames(), trigger_scheme="SOMETIMES")
    with pytest.raises(ValueError):
        cameras.add_camera("c", Frames(), fingerprint="short")
    with pytest.raises(ValueError):
        cameras.add_camera("", Frames())
    with pytest.raises(ValueError):
        cameras.add_camera("c", FileDriver(""))
    with pytest.raises(TypeError):
        cameras.add_camera("c", object())
    with pytest.raises(TypeError):
        cameras.add_camera("c", CommandDriver("cat snapshot.jpg"))
    with pytest.raises(ValueError, match="argv must be"):
        cameras.add_camera("c", CommandDriver([]))
    with pytest.raises(ValueError, match="resolution must be a positive"):
        cameras.add_camera("c", Frames(), resolution=(640,))
    # The wrapped library types check what they are given, too.
    config = _prusaconnect.CameraConfig()
    with pytest.raises(TypeError, match="std::string"):
        config.id = 5
    with pytest.raises(TypeError, match="of type 'int'"):
        config.rotation = "90"
    with pytest.raises(TypeError, match="Resolution or None"):
        config.resolution = [640]
    with pytest.raises(ValueError, match="unknown TriggerScheme: 'SOMETIMES'"):
        config.trigger_scheme = "SOMETIMES"
    with pytest.raises(ValueError, match="unknown CapabilityType"):
        config.capabilities = ["telepathy"]
    config.id = "x"
    with pytest.raises(ValueError, match="driver"):  # no driver: refused by the library
        printer._native.cameras().add_camera(config)  # pylint: disable=protected-access
    assert cameras.camera_ids == []
    assert cameras._drivers == {}  # pylint: disable=protected-access

    cameras.add_camera("c", Frames(), trigger_scheme=const.TriggerScheme.MANUAL)
    with pytest.raises(FileExistsError):
        cameras.add_camera("c", Frames())
    for call in (cameras.remove_camera, cameras.status, cameras.register_camera,
                 cameras.trigger):
        with pytest.raises(KeyError):
            call("nope")
    with pytest.raises(KeyError):
        cameras.set_trigger_scheme("nope", const.TriggerScheme.TEN_SEC)
    cameras.set_trigger_scheme("c", const.TriggerScheme.EACH_LAYER)
    assert cameras.status("c").trigger_scheme is const.TriggerScheme.EACH_LAYER
    with pytest.raises(TypeError):
        cameras.set_options(colour="red")
    with pytest.raises(ValueError):
        cameras.set_options(jpeg_quality=0)
    with pytest.raises(ValueError):
        cameras.set_options(backoff_min=0)
    with pytest.raises(ValueError):
        cameras.set_options(upload_policy="SOMETIMES")
    assert cameras.upload_policy is UploadPolicy.WHILE_PRINTING
    cameras.upload_policy = UploadPolicy.ALWAYS
    cameras.set_options(backoff_min=0.25, jpeg_quality=70)
    options = cameras.options
    assert options.upload_policy is UploadPolicy.ALWAYS
    assert options.backoff_min == 0.25 and options.jpeg_quality == 70
    # A layer change while the printer is idle (policy ALWAYS): the camera is
    # not registered, so the trigger is skipped and counted.
    cameras.layer_trigger()
    assert wait_for(lambda: cameras.status("c").triggers_skipped >= 1)


def test_registering_without_a_token_is_a_runtime_error():
    from prusaconnect import Printer
    printer = Printer(const.PrinterType.I3MK3S, "SN-NO-TOKEN", "fp-no-token")
    cameras = printer.camera_controller
    cameras.add_camera("c", Frames(), trigger_scheme=const.TriggerScheme.MANUAL)
    with pytest.raises(RuntimeError):
        cameras.register_camera("c")
    cameras.remove_camera("c")


def test_a_known_token_makes_the_camera_registered(emulator, make_printer):
    printer = make_printer()
    cameras = printer.camera_controller
    cameras.add_camera("first", Frames(), trigger_scheme=const.TriggerScheme.MANUAL)
    token = cameras.register_camera("first")
    fingerprint = cameras.status("first").fingerprint
    cameras.remove_camera("first")

    cameras.add_camera("first", Frames(), trigger_scheme=const.TriggerScheme.MANUAL,
                       token=token, fingerprint=fingerprint)
    assert cameras.status("first").registered
    before = uploaded(emulator, fingerprint)["snapshot_count"]
    cameras.trigger("first")
    assert wait_for(lambda: uploaded(emulator, fingerprint)["snapshot_count"] > before)


def test_a_driver_may_call_back_into_the_printer(emulator, make_printer):
    printer = make_printer()
    cameras = printer.camera_controller

    class Reporting(Driver):
        def take_a_photo(self):
            printer.telemetry(temp_nozzle=42.5)
            return JPEG

    cameras.add_camera("cb", Reporting(), trigger_scheme=const.TriggerScheme.MANUAL)
    cameras.register_camera("cb")
    cameras.trigger("cb")
    assert wait_for(lambda: cameras.status("cb").snapshots_uploaded >= 1)
    assert wait_for(lambda: any(t["telemetry"].get("temp_nozzle") == 42.5
                                for t in emulator.telemetry(printer.fingerprint)))


def test_removing_a_camera_while_its_python_driver_runs(emulator, make_printer):
    printer = make_printer()
    cameras = printer.camera_controller
    started = threading.Event()
    release = threading.Event()

    class Slow(Driver):
        def take_a_photo(self):
            started.set()
            release.wait(WAIT_LIMIT)
            return JPEG

    cameras.add_camera("slow", Slow(), trigger_scheme=const.TriggerScheme.MANUAL)
    cameras.register_camera("slow")
    cameras.trigger("slow")
    assert started.wait(WAIT_LIMIT)
    remover = threading.Thread(target=cameras.remove_camera, args=("slow",))
    remover.start()
    # Removal waits for the capture (with the GIL released); the driver,
    # still running Python, finishes once released.
    release.set()
    remover.join(WAIT_LIMIT)
    assert not remover.is_alive()
    assert cameras.camera_ids == []


def test_a_printer_with_python_cameras_is_collected(emulator):
    import gc
    import weakref

    from prusaconnect import Printer
    sn, fp, token = emulator.add_printer()
    printer = Printer(const.PrinterType.I3MK3S, sn, fp)
    printer.set_connection(emulator.url, token)
    printer.start()
    printer.camera_controller.add_camera("gc", Frames(), trigger_scheme=const.TriggerScheme.MANUAL)
    printer.camera_controller.register_camera("gc")
    printer.stop()
    ref = weakref.ref(printer)
    del printer
    gc.collect()
    # The camera's driver does not keep the printer alive. (A capture in
    # progress holds it for the call, so the printer's own reference cycles
    # may need another collection once that reference is released.)
    assert wait_for(lambda: gc.collect() is not None and ref() is None)





def test_exit_while_a_python_driver_captures(emulator):
    """Leaving the interpreter while a camera thread runs a Python driver
    (and a printer with cameras is never stopped) exits cleanly."""
    import os
    import subprocess
    import sys
    import textwrap
    sn, fp, token = emulator.add_printer()
    code = textwrap.dedent(f"""
        import threading, time
        from prusaconnect import Printer, const
        from prusaconnect.camera import Driver
        entered = threading.Event()
        class Slow(Driver):
            def take_a_photo(self):
                entered.set()
                time.sleep(0.5)
                return b"\\xff\\xd8\\xff\\xe0" + bytes(64) + b"\\xff\\xd9"
        p = Printer(const.PrinterType.I3MK3S, {sn!r}, {fp!r})
        p.set_connection({emulator.url!r}, {token!r})
        p.start()
        p.camera_controller.add_camera("slow", Slow(), trigger_scheme=const.TriggerScheme.MANUAL)
        p.camera_controller.register_camera("slow")
        p.camera_controller.trigger("slow")
        assert entered.wait(30)
        print("exiting", flush=True)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "exiting"
