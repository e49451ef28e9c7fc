"""The plugin's Jinja2 templates render with Debian's Jinja2 in every
registration state, as OctoPrint renders them (plugin template variables
prefixed plugin_<id>_, gettext as `_`)."""
import os

import jinja2
import pytest

from octoprint_prusaconnect import bridge

TEMPLATES = os.path.join(os.path.dirname(bridge.__file__), "templates")

STATUSES = {
    "starting": {"state": "starting"},
    "not_registered": {"state": "not_registered",
                       "problem": "cannot register with Prusa Connect: connection refused"},
    "waiting": {"state": "waiting", "code": "3f9c0a1b2d",
                "url": "https://connect.prusa3d.com/add-printer/connect/1.3/3f9c0a1b2d",
                "qr": bridge.qr_svg("https://connect.prusa3d.com/add-printer/connect/1.3/x")},
    "registered": {"state": "registered", "connect_state": "IDLE"},
    "offline": {"state": "offline", "problem": "HTTP: connection refused (Failed to connect)"},
}


def render(name, status):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, autoescape=True)
    env.globals["_"] = lambda text: text
    return env.get_template(name).render(plugin_prusaconnect_status=status,
                                         plugin_prusaconnect_labels=bridge.STATE_LABELS)


@pytest.mark.parametrize("state", sorted(STATUSES))
def test_settings_page_renders_in_every_state(state):
    html = render("prusaconnect_settings.jinja2", STATUSES[state])
    assert bridge.STATE_LABELS[state] in html
    assert 'id="prusaconnect_settings"' in html
    assert "Register" in html and "Reset registration" in html
    if state == "waiting":
        assert "3f9c0a1b2d" in html and "add-printer/connect/1.3/3f9c0a1b2d" in html
    if STATUSES[state].get("problem"):
        assert "connection refused" in html


def test_navbar_renders():
    html = render("prusaconnect_navbar.jinja2", STATUSES["registered"])
    assert 'id="navbar_plugin_prusaconnect"' in html


def test_qr_code_is_an_svg():
    svg = bridge.qr_svg("https://connect.prusa3d.com/add-printer/connect/1.3/abc")
    assert svg is not None and "<svg" in svg and "path" in svg
