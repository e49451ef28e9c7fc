"""prusaconnect.client (ConnectClient on the bindings) and
Printer.set_supported_commands, against the emulator's user API: the cache,
refusals raised as CommandValidationError without sending, an accepted
command reaching a Python handler with its defaults, errors as exception
classes, and nothing that shows the token (docs/commands.md)."""
import threading

import pytest

from conftest import WAIT, wait_for
from prusaconnect import const
from prusaconnect.client import (CommandDefinition, CommandArgument, CommandValidationError,
                                 ConnectAuthError, ConnectClient, ConnectUnavailableError,
                                 PrinterNotFoundError)


def token(emulator):
    return emulator.api("GET", "/api/user-token")["token"]


def sends(emulator):
    by_path = emulator.api("GET", "/api/stats")["by_path"]
    return sum(by_path.get("/app/printers/{uuid}/commands/sync", {}).values())


def online(printer, emulator, state=const.State.IDLE):
    printer.set_state(state, const.Source.WUI)
    before = emulator.printer(printer.fingerprint)["telemetry_count"]
    printer.telemetry()
    assert wait_for(lambda: emulator.printer(printer.fingerprint)["telemetry_count"] > before)


def test_printers_commands_cache_and_refusals(emulator, make_printer):
    printer = make_printer()
    online(printer, emulator)
    client = ConnectClient(emulator.url, token(emulator))
    mine = client.printer(printer.sn)
    assert mine.state == "IDLE" and mine.sn == printer.sn
    assert mine.uuid in [p.uuid for p in client.printers()]
    commands = {c.command: c for c in client.supported_commands(mine.uuid)}
    assert commands["PAUSE_PRINT"].executable_from_state == ["PRINTING"]
    assert commands["START_PRINT"].args[0] == CommandArgument(
        name="path", type="string", required=True, description="path of the file, e.g. /usb/a.gcode")
    before = client.requests_sent
    for _ in range(3):
        client.supported_commands(mine.uuid)
    assert client.requests_sent == before  # cached
    sent = sends(emulator)
    for command, kwargs, reason in [
            ("START_PRINT", None, "START_PRINT: missing required argument 'path' (string)"),
            ("START_PRINT", {"path": 5}, "must be a string, not an integer (5)"),
            ("PAUSE_PRINT", None, "PAUSE_PRINT cannot run while the printer is IDLE"),
            ("LEVITATE", None, "does not support LEVITATE")]:
        with pytest.raises(CommandValidationError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            client.send_command(mine.uuid, command, kwargs)
    assert sends(emulator) == sent
    assert client.validate_command(mine.uuid, "DELETE_FOLDER", {"path": "/x"}) == {
        "path": "/x", "force": False}


def test_an_accepted_command_reaches_the_python_handler_with_defaults(emulator, make_printer):
    printer = make_printer(background_handlers=True)
    seen = {}
    done = threading.Event()

    @printer.handler(const.Command.START_PRINT)
    def start(caller):
        seen.update(caller.kwargs)
        done.set()
        return {"source": const.Source.CONNECT}

    move = CommandDefinition(command="START_PRINT", args=[
        CommandArgument(name="path", type="string", required=True),
        CommandArgument(name="copies", type="integer", default=1)],
        executable_from_state=["IDLE"], description="print, maybe twice")
    printer.set_supported_commands([move])
    assert printer.supported_commands()[0]["description"] == "print, maybe twice"
    online(printer, emulator)
    # Connect learns the definitions from the printer's INFO.
    cid = emulator.queue(printer.fingerprint, "SEND_INFO")
    printer.telemetry()
    assert emulator.wait_event(printer.fingerprint, "INFO", command_id=cid)
    client = ConnectClient(emulator.url, token(emulator))
    uuid = client.printer(printer.sn).uuid
    assert [c.command for c in client.supported_commands(uuid)] == ["START_PRINT"]
    client.send_command(uuid, "START_PRINT", {"path": "/usb/a.gcode"})
    printer.telemetry()
    assert done.wait(WAIT)
    assert seen == {"path": "/usb/a.gcode", "copies": 1}
    # The printer itself refuses what does not match, before the handler.
    done.clear()
    cid = emulator.queue(printer.fingerprint, "START_PRINT", {"path": "/a.gcode", "copies": "2"})
    printer.telemetry()
    rejected = emulator.wait_event(printer.fingerprint, "REJECTED", command_id=cid)
    assert rejected, emulator.events(printer.fingerprint)
    assert rejected["body"]["reason"] == (
        'START_PRINT: argument \'copies\' must be an integer, not a string ("2")')
    assert not done.is_set()


def test_declaring_the_standard_definitions_of_what_it_handles(make_printer):
    printer = make_printer(start=False)
    assert const.Command.SEND_INFO in printer.handled_commands()
    assert const.Command.START_PRINT not in printer.handled_commands()
    printer.set_supported_commands()
    names = [d["command"] for d in printer.supported_commands()]
    assert "SEND_INFO" in names and "START_PRINT" not in names
    printer.set_supported_commands([])
    assert printer.supported_commands() == []
    with pytest.raises(ValueError, match="unknown type"):
        printer.set_supported_commands([{"command": "X", "args": [{"name": "a", "type": "float"}]}])


def test_errors_are_exception_classes_and_hide_the_token(emulator, make_printer):
    make_printer()
    wrong = ConnectClient(emulator.url, "very-secret-token")
    with pytest.raises(ConnectAuthError) as e:
        wrong.printers()
    assert "very-secret-token" not in str(e.value) and "very-secret-token" not in repr(wrong)
    client = ConnectClient(emulator.url, token(emulator))
    with pytest.raises(PrinterNotFoundError):
        client.printer("no-such-printer")
    with pytest.raises(ConnectUnavailableError):
        ConnectClient("http://127.0.0.1:1", "t", timeout=2).printers()
