"""How the library's types cross into Python (prusaconnect.i, py_convert.h):
enum classes as their wire text, std::optional as None, vectors as lists,
Status and StatusOr as exceptions, structs as wrapped objects; bad values
give a clear TypeError / ValueError / OverflowError and change nothing."""
import tempfile
import threading

import pytest

from prusaconnect import _prusaconnect as lib


def native_printer(**options):
    opts = lib.PrinterOptions()
    for key, value in options.items():
        setattr(opts, key, value)

    class Owner:  # what PythonPrinter calls back: nothing here
        pass

    owner = Owner()
    printer = lib.PythonPrinter(owner, "I3MK3S", "SN-TYPES", "fp-types", opts)
    return owner, printer


def test_enums_cross_as_their_wire_text():
    _, p = native_printer()
    assert p.state() == "BUSY"
    p.set_state("READY", "USER", True, lib.EventFields(), {})
    assert p.state() == "READY" and p.ready() is True
    assert p.registration_status() == "NO_REGISTRATION"
    assert p.last_command_state() in ("FINISHED", "REJECTED", "FAILED", "ACCEPTED", "ABORTED")
    with pytest.raises(ValueError, match="unknown State: 'SLEEPING'"):
        p.set_state("SLEEPING", "USER", None, lib.EventFields(), {})
    with pytest.raises(TypeError, match="State must be a str"):
        p.set_state(3, "USER", None, lib.EventFields(), {})
    assert p.state() == "READY"  # the refused calls changed nothing


def test_optionals_and_struct_members():
    fields = lib.EventFields()
    assert fields.job_id is None and fields.state is None and fields.timestamp is None
    fields.job_id = 7
    fields.state = "IDLE"
    fields.reason = "because"
    assert (fields.job_id, fields.state, fields.reason) == (7, "IDLE", "because")
    fields.job_id = None
    assert fields.job_id is None
    with pytest.raises(OverflowError):
        fields.job_id = 2**64
    with pytest.raises(TypeError, match="expected an int"):
        fields.job_id = "7"
    with pytest.raises(ValueError, match="unknown State"):
        fields.state = "idle"
    assert fields.state == "IDLE"


def test_printer_type_crosses_as_its_triple():
    _, p = native_printer()
    assert p.type() == "1.3.1"
    with pytest.raises(ValueError, match="unknown printer type: 'MK9'"):
        lib.PythonPrinter(object.__new__(type("O", (), {})), "MK9", "", "", lib.PrinterOptions())
    # Set once (the SDK's rule): the second set is the library's refusal.
    with pytest.raises(RuntimeError, match="already set"):
        p.set_type("I3MK3")
    assert p.type() == "1.3.1"


def test_status_becomes_the_exception_of_its_code():
    _, p = native_printer()
    with tempfile.TemporaryDirectory() as root:
        assert p.attach(root, "usb") is None  # OK is None
        with pytest.raises(FileExistsError):  # AlreadyExists
            p.attach(root, "usb")
        with pytest.raises(FileNotFoundError):  # NotFound
            p.detach("sd")
        with pytest.raises(ValueError):  # InvalidArgument
            p.attach(root, "bad/name")
        fs = p.fs()
        assert fs.storages() == ["usb"]
        with pytest.raises(FileNotFoundError):  # StatusOr<Json>
            fs.FileInfo("/usb/missing.gcode")
        node = fs.Get("/usb", 0)
        assert node.name == "usb" and node.is_dir and node.type == "FOLDER"
        assert fs.Get("/nowhere", 0) is None  # optional<Node>
        assert p.detach("usb") is None


def test_vectors_and_command_definitions():
    _, p = native_printer()
    assert "SEND_INFO" in p.handled_commands()
    p.set_mbl([0.1, -0.2, 0.3])
    with pytest.raises(TypeError):
        p.set_mbl("0.1")  # a str is not a list of numbers
    p.set_supported_commands([{"command": "PAUSE_PRINT"}])
    assert [d["command"] for d in p.supported_commands()] == ["PAUSE_PRINT"]
    with pytest.raises(ValueError):
        p.set_supported_commands([{"command": "PAUSE_PRINT", "args": [{"type": "banana"}]}])
    assert [d["command"] for d in p.supported_commands()] == ["PAUSE_PRINT"]


def test_wrapped_calls_release_the_gil():
    """A thread keeps running Python while another blocks in the library."""
    _, p = native_printer()
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(1)

    t = threading.Thread(target=spin)
    t.start()
    try:
        assert p.wait_for_command(300) is False  # blocks 0.3 s without the GIL
        seen = len(ticks)
    finally:
        stop.set()
        t.join()
    assert seen > 100
