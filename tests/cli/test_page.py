"""The emulator's page at / as a local Connect, in a real headless Chromium
(Debian's chromium over DevTools, tests/bridge/chromium.py): a pending code
approved with a click, a printer shown live without a reload, commands sent
through forms built from the printer's definitions (a refusal shown, an
accepted one reaching the printer typed), a file put into "Connect" and
downloaded with START_CONNECT_DOWNLOAD, a camera snapshot shown, and no
console error."""
import base64
import json
import urllib.request

from harness import WAIT, wait_for
from test_cli import FakePrinter

# A 1x1 JPEG.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////"
    "////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/a"
    "AAgBAQABPxA=")


def post(url, body, headers, method="POST"):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=WAIT) as r:
        return r.status, dict(r.headers)


def card(browser):
    return browser.eval("""(() => { const c = document.querySelector('.printer');
        return c && c.querySelector('[data-role=state]') ? {state: c.querySelector('[data-role=state]').textContent, text: c.innerText}
                 : null; })()""")


def send_form(browser, command, fields):
    """Picks `command` in the printer's form, fills `fields`, submits; the
    result line once it is there."""
    browser.eval(f"""(() => {{
        const f = document.querySelector('form.command');
        f.elements.command.value = {json.dumps(command)};
        f.elements.command.dispatchEvent(new Event('change'));
        const fields = {json.dumps(fields)};
        for (const [k, v] of Object.entries(fields)) {{
          const i = f.elements[k];
          if (i.type === 'checkbox') i.checked = v; else i.value = v;
        }}
        f.querySelector('[data-role=result]').textContent = '';
        f.requestSubmit(); }})()""")
    return wait_for(lambda: browser.eval(
        "document.querySelector('form.command [data-role=result]').textContent") or None)


def test_the_page_is_a_local_connect(emulator, browser):
    printer = FakePrinter(emulator, "SN-PAGE-1")
    printer.telemetry("IDLE")
    browser.navigate(emulator.url + "/")
    assert wait_for(lambda: browser.eval("document.getElementById('live')?.textContent") == "live")
    # A printer live, without a reload.
    got = wait_for(lambda: (lambda c: c if c and c["state"] == "IDLE" else None)(card(browser)))
    assert got, (card(browser), browser.errors())
    assert "SN-PAGE-1" in got["text"] and "21.5 °C" in got["text"]
    browser.eval("window.__marker = 7")
    printer.telemetry("PRINTING")
    assert wait_for(lambda: card(browser)["state"] == "PRINTING")
    printer.telemetry("IDLE")
    assert wait_for(lambda: card(browser)["state"] == "IDLE")

    # A command the printer cannot run now: the reason, nothing queued.
    result = send_form(browser, "PAUSE_PRINT", {})
    assert result == "PAUSE_PRINT cannot run while the printer is IDLE (only from PRINTING)"
    assert printer.telemetry("IDLE") is None
    # Typed fields: a checkbox is a boolean, defaults come from the definition.
    result = send_form(browser, "DELETE_FOLDER", {"path": "/usb/old", "force": True})
    assert result.startswith("queued: command"), result
    assert printer.telemetry("IDLE") == {
        "command": "DELETE_FOLDER", "kwargs": {"path": "/usb/old", "force": True}}
    result = send_form(browser, "START_PRINT", {"path": "/usb/benchy.gcode"})
    assert result.startswith("queued"), result
    assert printer.telemetry("IDLE") == {
        "command": "START_PRINT", "kwargs": {"path": "/usb/benchy.gcode"}}
    # An integer field: Connect gets a JSON integer.
    result = send_form(browser, "STOP_TRANSFER", {"transfer_id": "12"})
    assert result.startswith("queued"), result
    assert printer.telemetry("IDLE")["kwargs"] == {"transfer_id": 12}

    # A file into "Connect", then downloaded by the printer.
    browser.eval("""(() => { const f = document.getElementById('file-form');
        f.hash.value = 'part-7'; f.size.value = '2048'; f.team_id.value = '3';
        f.requestSubmit(); })()""")
    assert wait_for(lambda: browser.eval(
        "!!document.querySelector('form.download[data-hash=\"part-7\"]')"))
    assert [f["hash"] for f in emulator.api("GET", "/api/files")] == ["part-7"]
    browser.eval("document.querySelector('form.download[data-hash=\"part-7\"]').requestSubmit()")
    assert wait_for(lambda: "queued" in browser.eval(
        "document.querySelector('form.download [data-role=result]').textContent"))
    assert printer.telemetry("IDLE") == {"command": "START_CONNECT_DOWNLOAD", "kwargs": {
        "team_id": 3, "hash": "part-7", "path": "/local/part-7.gcode",
        "printing": False, "selecting": False}}

    # A pending code, added with a click.
    fp = "f" * 64
    status, headers = post(emulator.url + "/p/register", json.dumps(
        {"sn": "SN-NEW-1", "fingerprint": fp, "printer_type": "1.3.1",
         "firmware": "1.0"}).encode(),
        {"Content-Type": "application/json", "Fingerprint": fp,
         "User-Agent": "libprusaconnect/test", "Timestamp": "1.0"})
    code = headers["Code"]
    assert wait_for(lambda: browser.eval(
        f"!!document.querySelector('.code[data-code=\"{code}\"] button')"))
    browser.eval(f"document.querySelector('.code[data-code=\"{code}\"] button').click()")
    assert wait_for(lambda: [c["state"] for c in emulator.api("GET", "/api/codes")
                             if c["code"] == code] == ["approved"])
    assert wait_for(lambda: browser.eval(
        f"!document.querySelector('.code[data-code=\"{code}\"]')"))

    # A camera's last snapshot.
    cam = "c" * 32
    status, headers = post(emulator.url + "/p/camera", json.dumps(
        {"fingerprint": cam, "config": {"name": "cam"}}).encode(),
        {"Content-Type": "application/json", "Token": printer.token,
         "Fingerprint": printer.fp, "User-Agent": "libprusaconnect/test", "Timestamp": "1.0"})
    post(emulator.url + "/c/snapshot", JPEG,
         {"Content-Type": "image/jpg", "Token": headers["Token"], "Fingerprint": cam,
          "Timestamp": "1.0"}, method="PUT")
    assert wait_for(lambda: browser.eval(
        "document.querySelector('img.snapshot')?.naturalWidth > 0")), browser.errors()

    assert browser.eval("window.__marker") == 7  # the same page all along
    # The refused command's 400 is the answer the page shows, not an error.
    refused = "status of 400 (Bad Request) " + emulator.url + "/app/printers/"
    assert [e for e in browser.errors() if refused not in e] == []
