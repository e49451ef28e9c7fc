"""The bridge's dashboard page in a real headless Chromium: it loads, shows
every printer the bridge runs (states, temperatures, the registration code
and its QR code), follows a print live through the event stream without a
reload, and logs no console error."""
import json
import urllib.request

from chromium import browser  # noqa: F401  (the fixture)
from conftest import wait_for


def cards(browser):
    return browser.eval("""[...document.querySelectorAll('section.card')].map(c => ({
        name: c.dataset.name,
        state: c.querySelector('[data-role=state]').textContent,
        text: c.innerText,
        progress: c.querySelector('[data-role=progress]')?.style.width ?? null,
        qr: !!c.querySelector('.reg img'),
        qrLoaded: c.querySelector('.reg img')?.naturalWidth > 0}))""")


def test_dashboard_shows_printers_and_follows_a_print(bridges, emulator, browser):
    b = bridges([{"name": "mk3", "host": "virtual", "job_seconds": 3, "idle_interval_ms": 300,
                  "printing_interval_ms": 200},
                 {"name": "newcomer", "host": "virtual"}])
    fp = b.provision("mk3")
    b.start()
    base = b.api_url()
    assert emulator.wait_state(fp, "IDLE")
    browser.navigate(base)
    got = wait_for(lambda: (lambda c: c if len(c) == 2 and all(x["state"] for x in c) and
                            c[1]["qrLoaded"] else None)(cards(browser)))
    assert got, (cards(browser), browser.errors())
    mk3, newcomer = got
    assert mk3["name"] == "mk3" and newcomer["name"] == "newcomer"
    assert mk3["state"] in ("IDLE", "READY")
    assert "Nozzle" in mk3["text"] and "\u00b0" in mk3["text"]
    # The newcomer waits for its code: the code and a QR code that loads.
    with urllib.request.urlopen(base + "api/printer/newcomer") as r:
        code = json.loads(r.read())["registration"]["code"]
    assert code and code in newcomer["text"]
    assert newcomer["qr"] and newcomer["qrLoaded"]
    assert browser.eval("document.getElementById('live').textContent") == "live"
    # A print through Connect: the card follows without a reload.
    browser.eval("window.__marker = 42")
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert wait_for(lambda: cards(browser)[0]["state"] == "PRINTING", interval=0.05), \
        cards(browser)
    assert wait_for(lambda: "benchy.gcode" in cards(browser)[0]["text"])
    assert wait_for(lambda: cards(browser)[0]["state"] == "FINISHED", timeout=30), cards(browser)
    assert browser.eval("window.__marker") == 42  # the same page: no reload
    # The newcomer approved in Connect: its code goes away.
    emulator.approve(code)
    assert wait_for(lambda: not cards(browser)[1]["qr"], timeout=30)
    assert browser.errors() == []


def test_dashboard_with_a_token(bridges, browser):
    secret = "dashboard-secret-0123456789abcdef"
    b = bridges([{"name": "mk3", "host": "virtual"}], extra_bridge=f'api_token = "{secret}"')
    b.start()
    base = b.api_url()
    browser.navigate(base + "?access_token=" + secret)
    assert wait_for(lambda: len(cards(browser)) == 1), browser.errors()
    assert wait_for(lambda: browser.eval("document.getElementById('live').textContent") == "live")
    assert browser.errors() == []
