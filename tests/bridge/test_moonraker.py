"""The Moonraker driver through the bridge: a fake Moonraker (mirroring
Moonraker 0.10's JSON-RPC and REST shapes) and the Connect emulator."""
import json
import os
import time
import urllib.request

import pytest

from conftest import WAIT, wait_for


def mr(name, fake, **kw):
    p = {"name": name, "host": "moonraker", "url": fake.url, "idle_interval_ms": 300,
         "printing_interval_ms": 200}
    if fake.api_key:
        p["api_key"] = fake.api_key
    p.update(kw)
    return p


@pytest.fixture
def online(bridges, emulator, moonraker):
    """A bridge with one Moonraker printer, online and IDLE."""
    fake = moonraker(api_key="MRKEY", advance_per_second=0)
    fake.add_file("benchy.gcode", b"G28\nG1 X10\n" * 50, estimated_time=600)
    fake.add_file("parts/clip.gcode", b"G28\n", estimated_time=60)
    b = bridges([mr("voron", fake)])
    fp = b.provision("voron")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    return b, fake, fp


def test_identity_from_the_board_serial(bridges, emulator, moonraker):
    fake = moonraker(serial="00000000c0ffee42")
    b = bridges([mr("k1", fake)]).start()
    assert b.wait_log("new identity: serial number KLIPPER-00000000c0ffee42 (from board-serial)")
    # A second printer reporting the same board (two instances on one Pi)
    # gets its own identity.
    b.stop()
    fake2 = moonraker(serial="00000000c0ffee42")
    b2 = bridges([mr("k1", fake), mr("k2", fake2)], root=b.root).start()
    assert b2.wait_log("[k2] the host reports serial number KLIPPER-00000000c0ffee42, which "
                       "another printer of this bridge already uses")
    assert b2.wait_log("[k2] new identity: serial number")


def test_telemetry_and_states_through_a_print(online, emulator):
    b, fake, fp = online
    fake.set_temperatures(201.26, 59.94)
    assert wait_for(lambda: emulator.telemetry(fp).get("temp_nozzle") == 201.3)
    assert emulator.telemetry(fp)["temp_bed"] == 59.9
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert ("printer.print.start", {"filename": "benchy.gcode"}) in fake.calls
    ev = emulator.wait_state(fp, "PRINTING")
    assert ev["source"] == "CONNECT"
    fake.set_progress(0.25)
    t = wait_for(lambda: (lambda x: x if x.get("progress") == 25 else None)(
        emulator.telemetry(fp)))
    assert t["target_nozzle"] == 215.0 and t["target_bed"] == 60.0
    # The slicer's estimate (600 s) minus the print duration.
    assert 590 <= t["time_remaining"] <= 600 and t["time_printing"] >= 1
    assert t["speed"] == 100 and t["flow"] == 100
    job_id = emulator.printer(fp)["last_telemetry"].get("job_id") or \
        emulator.wait_state(fp, "PRINTING")["job_id"]
    assert job_id
    info = emulator.queue(fp, "SEND_JOB_INFO")
    r = emulator.wait_result(fp, info)
    assert r["event"] == "JOB_INFO" and r["body"]["data"]["path"] == "/local/benchy.gcode"
    for cmd, state in (("PAUSE_PRINT", "PAUSED"), ("RESUME_PRINT", "PRINTING"),
                       ("STOP_PRINT", "STOPPED")):
        cid = emulator.queue(fp, cmd)
        assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
        assert emulator.wait_event(fp, "STATE_CHANGED", pred=lambda e, s=state, c=cid:
                                   e["state"] == s and e["source"] == "CONNECT")
    # STOPPED holds until the user sets the printer ready.
    cid = emulator.queue(fp, "SET_PRINTER_READY")
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fp, "READY")
    # Starting while printing is refused before Klipper is asked (Moonraker
    # would start the new file even while paused).
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fp, "PRINTING")
    calls = len(fake.calls)
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/parts/clip.gcode"})
    r = emulator.wait_result(fp, cid)
    assert r["event"] == "REJECTED" and "cannot run while the printer is PRINTING" in \
        r["body"]["reason"]
    assert not any(c[0] == "printer.print.start" for c in fake.calls[calls:])
    fake.finish()
    assert emulator.wait_state(fp, "FINISHED")
    assert b.wait_log("Klipper's history: benchy.gcode completed")


def test_gcode_and_klipper_errors(online, emulator):
    b, fake, fp = online
    # Klipper refuses a move before homing: the script call fails.
    cid = emulator.queue(fp, "GCODE", {"gcode": "G1 X10"})
    r = emulator.wait_result(fp, cid)
    assert r["event"] == "FAILED" and "Must home axis first" in r["body"]["reason"]
    cid = emulator.queue(fp, "GCODE", {"gcode": "G28\nM104 S200"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert "G28\nM104 S200" in fake.scripts
    # An unknown command: Klipper says "ok" and only tells the console (as
    # the real Klipper does); the bridge reads the console and fails it.
    cid = emulator.queue(fp, "GCODE", {"gcode": "FROBNICATE"})
    r = emulator.wait_result(fp, cid)
    assert r["event"] == "FAILED" and 'Unknown command:"FROBNICATE"' in r["body"]["reason"]
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/missing.gcode"})
    r = emulator.wait_result(fp, cid)
    assert r["event"] == "FAILED" and "Unable to open file" in r["body"]["reason"]


def test_klipper_shutdown_mid_print_and_firmware_restart(online, emulator):
    b, fake, fp = online
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fp, "PRINTING")
    fake.shutdown("MCU 'mcu' shutdown: Timer too close")
    ev = emulator.wait_state(fp, "ATTENTION")
    assert "Timer too close" in ev["body"]["reason"] and "FIRMWARE_RESTART" in ev["body"]["reason"]
    cid = emulator.queue(fp, "RESET_PRINTER")
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    idle = emulator.wait_event(fp, "STATE_CHANGED", pred=lambda e: e["state"] == "IDLE" and
                               e["timestamp"] > ev["timestamp"])
    assert idle
    # The restart Connect asked for is BUSY meanwhile, not an error (as the
    # real Klipper showed: klippy disconnects for a few seconds).
    between = [e["state"] for e in emulator.events(fp, "STATE_CHANGED")
               if ev["timestamp"] < e["timestamp"] < idle["timestamp"]]
    assert "ERROR" not in between, between
    # The job ended with the shutdown; a new print gets a new job id.
    first_job = ev["body"].get("job_id")
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    again = emulator.wait_event(fp, "STATE_CHANGED", pred=lambda e: e["state"] == "PRINTING"
                                and e["timestamp"] > ev["timestamp"])
    assert again["body"].get("job_id") and again["body"]["job_id"] != first_job


def test_socket_drop_mid_print_keeps_the_job(online, emulator):
    b, fake, fp = online
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    printing = emulator.wait_state(fp, "PRINTING")
    fake.drop_sockets()
    assert b.wait_log("reconnecting in")
    assert wait_for(lambda: fake.socket_count() == 1)
    fake.set_progress(0.5)
    assert wait_for(lambda: emulator.telemetry(fp).get("progress") == 50)
    # No state change for a short drop; the same job.
    states = [e["state"] for e in emulator.events(fp, "STATE_CHANGED")
              if e["timestamp"] > printing["timestamp"]]
    assert "ERROR" not in states
    fake.finish()
    done = emulator.wait_state(fp, "FINISHED")
    assert done["body"].get("job_id") == printing["body"]["job_id"]


def test_moonraker_down_is_an_error_with_the_reason_then_recovers(online, emulator):
    b, fake, fp = online
    fake.stop()
    ev = emulator.wait_state(fp, "ERROR", timeout=20)
    assert "Moonraker unreachable at " + fake.url in ev["body"]["reason"]
    fake.start()  # same port
    assert emulator.wait_event(fp, "STATE_CHANGED", timeout=45, pred=lambda e: e["state"] ==
                               "IDLE" and e["timestamp"] > ev["timestamp"])


def test_klippy_restart_while_idle(online, emulator):
    b, fake, fp = online
    fake.klippy_restart(down_seconds=1.0)
    assert b.wait_log("Klipper disconnected from Moonraker")
    assert b.wait_log("Klipper is ready")
    fake.set_temperatures(30.0, 25.0)
    assert wait_for(lambda: emulator.telemetry(fp).get("temp_nozzle") == 30.0)


def test_files_tree_commands_and_download_to_print(online, emulator, tmp_path):
    b, fake, fp = online
    info = emulator.queue(fp, "SEND_INFO")
    r = emulator.wait_result(fp, info)
    files = json.dumps(r["body"]["data"].get("files"))
    assert "benchy.gcode" in files and "clip.gcode" in files and ".thumbs" not in files
    cid = emulator.queue(fp, "SEND_FILE_INFO", {"path": "/local/benchy.gcode"})
    r = emulator.wait_result(fp, cid)
    assert r["event"] == "FILE_INFO"
    assert r["body"]["data"].get("filament_type") == "PLA"
    assert r["body"]["data"].get("preview", "").startswith("iVBOR")  # the slicer's PNG
    cid = emulator.queue(fp, "CREATE_FOLDER", {"path": "/local/new"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert "new" in fake.dirs
    cid = emulator.queue(fp, "DELETE_FILE", {"path": "/local/parts/clip.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert "parts/clip.gcode" not in fake.files
    assert emulator.wait_event(fp, "FILE_CHANGED")


def test_webcam_becomes_a_connect_camera(online, emulator):
    b, fake, fp = online
    fake.add_webcam("nozzle cam")
    cams = wait_for(lambda: [c for c in emulator.api("GET", "/api/cameras")
                             if c["printer_fingerprint"] == fp and c["snapshot_count"] >= 1])
    assert cams, b.stderr()[-2000:]
    assert fake.snapshots_served >= 1
    assert b.wait_log("webcam nozzle cam (" + fake.url + "/webcam/snapshot) is Connect camera")
    files = [f for f in os.listdir(os.path.join(b.state, "voron")) if f.startswith("camera-")]
    assert len(files) == 1
    assert os.stat(os.path.join(b.state, "voron", files[0])).st_mode & 0o777 == 0o600
    # A restarted bridge keeps the camera's token: no second registration.
    b.stop()
    b.start()
    assert b.wait_log("is Connect camera", timeout=30) and wait_for(
        lambda: b.stderr().count("is Connect camera") == 2)
    cam = [c for c in emulator.api("GET", "/api/cameras") if c["printer_fingerprint"] == fp]
    assert len(cam) == 1 and cam[0]["registrations"] == 1, cam


def test_each_layer_camera_takes_a_picture_per_new_layer(bridges, emulator, moonraker):
    fake = moonraker(advance_per_second=0)
    fake.add_file("benchy.gcode", b"G28\n" * 50, estimated_time=600)
    fake.add_webcam("nozzle cam")
    b = bridges([mr("voron", fake, camera_trigger="each_layer")])
    fp = b.provision("voron")
    b.start()
    assert emulator.wait_state(fp, "IDLE")

    def shots():
        cams = [c for c in emulator.api("GET", "/api/cameras") if c["printer_fingerprint"] == fp]
        return cams[0]["snapshot_count"] if cams else 0
    assert wait_for(lambda: shots() == 1)  # the first picture after registration
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fp, "PRINTING")
    fake.set_layer(1, 40)  # the first layer seen is where we are, not a change
    assert b.wait_log("[voron] layer 1 of 40")
    for layer in (2, 3):
        before = shots()
        fake.set_layer(layer, 40)
        assert wait_for(lambda: shots() == before + 1), (layer, shots(), b.stderr()[-2000:])
        assert b.wait_log(f"[voron] layer {layer} of 40")
    # Not timed: nothing more comes while the layer stays.
    time.sleep(1.5)
    assert shots() == 3
    assert "camera_trigger" not in b.stderr()


def test_api_key_never_logged(online):
    b, fake, fp = online
    assert fake.api_key == "MRKEY"
    assert "MRKEY" not in b.stderr()


def test_upload_refused_is_reported_and_nothing_printed(online, emulator):
    b, fake, fp = online
    fake.refuse_uploads = (403, "File is loaded, upload not permitted")
    h = f"mr{os.getpid()}x"
    emulator.api("POST", "/api/files", {"team_id": 7, "hash": h, "size": 2000})
    cid = emulator.queue(fp, "START_CONNECT_DOWNLOAD", {"path": "/local/refused.gcode",
                                                        "team_id": 7, "hash": h,
                                                        "printing": True})
    assert emulator.wait_result(fp, cid)["event"] == "TRANSFER_INFO"
    ev = emulator.wait_event(fp, "TRANSFER_ABORTED")
    assert ev and "File is loaded, upload not permitted" in json.dumps(ev["body"]), ev
    assert "refused.gcode" not in fake.files
    assert not any(c[0] == "printer.print.start" for c in fake.calls)
