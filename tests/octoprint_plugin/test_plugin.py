"""The plugin's OctoPrint side (octoprint_prusaconnect/__init__.py) with the
objects OctoPrint injects (standins.make_plugin_env().inject): metadata,
startup without blocking, settings (the token never reaches the browser in
full; changes apply at run time), the API (admin only), events and the
firmware hook reaching the bridge, shutdown."""
import uuid

import pytest

import octoprint.access.permissions
import octoprint_prusaconnect as plugin_module
import standins
from harness import wait_for


@pytest.fixture
def plugin(tmp_path, emulator):
    env = standins.make_plugin_env(str(tmp_path))
    plugin = plugin_module.PrusaConnectPlugin()
    env.inject(plugin)
    sn = str(uuid.uuid4())
    fp, token = emulator.add_printer(sn)
    for key, value in dict(server=emulator.url, serial_number=sn, serial_source="m115-uuid",
                           token=token, idle_interval=0.2).items():
        env.settings.set([key], value)
    env.printer.connect()
    plugin.fp, plugin.env, plugin.token = fp, env, token
    yield plugin
    plugin.on_shutdown()
    env.event_bus.close()


def test_metadata():
    assert plugin_module.__plugin_pythoncompat__ == ">=3.7,<4"
    assert plugin_module.__plugin_name__ and plugin_module.__plugin_version__
    assert plugin_module.__plugin_license__
    assert isinstance(plugin_module.__plugin_implementation__, plugin_module.PrusaConnectPlugin)
    assert "octoprint.comm.protocol.firmware.info" in plugin_module.__plugin_hooks__


def test_startup_settings_api_and_shutdown(plugin, emulator):
    received = []  # what OctoPrint's socket would send, with its permissions
    plugin.env.plugin_manager.register_message_receiver(
        lambda p, data, permissions=None: received.append((data, permissions)))
    plugin.on_after_startup()  # returns at once; the bridge works on its thread
    assert emulator.wait_state(plugin.fp, "IDLE")
    assert wait_for(lambda: [m for m in plugin.env.plugin_manager.messages_for("prusaconnect")
                             if m.get("type") == "status"
                             and m["status"]["state"] == "registered"])

    loaded = plugin.on_settings_load()
    assert plugin.token not in str(loaded)
    assert loaded["token"].endswith(plugin.token[-4:])
    # Saving the page back (with the masked token) changes no token.
    plugin.on_settings_save(dict(loaded, idle_interval=0.5))
    assert plugin._settings.get(["token"]) == plugin.token
    assert plugin._settings.get(["idle_interval"]) == 0.5

    assert plugin.on_api_get(None)["state"] == "registered"
    permissions = octoprint.access.permissions.Permissions
    assert set(plugin.get_api_commands()) == {"register", "reset"}
    admin = octoprint.access.permissions.Permissions.ADMIN
    admin.allowed = False
    try:
        with pytest.raises(Exception) as err:
            plugin.on_api_command("reset", {})
        assert getattr(err.value, "code", None) == 403
        assert plugin._settings.get(["token"]) == plugin.token
    finally:
        admin.allowed = True
    status = plugin.on_api_command("reset", {})
    assert status["serial_number"] == plugin._settings.get(["serial_number"])
    assert wait_for(lambda: plugin.bridge.status()["state"] == "waiting")
    assert plugin._settings.get(["token"]) == ""

    code = wait_for(lambda: plugin.bridge.status().get("code"))
    assert code and plugin.on_api_get(None)["code"] == code  # an administrator
    # Whoever has the code can add the printer to their Connect account:
    # other users see the state only, anonymous callers nothing, and neither
    # the page (rendered before login) nor the plain status message has it.
    permissions.ADMIN.allowed = False
    try:
        seen = plugin.on_api_get(None)
        assert seen["state"] == "waiting" and "code" not in seen and "server" not in seen
        assert plugin.on_settings_load()["token"] is None
        permissions.STATUS.allowed = False
        with pytest.raises(Exception) as err:
            plugin.on_api_get(None)
        assert getattr(err.value, "code", None) == 403
    finally:
        permissions.ADMIN.allowed = permissions.STATUS.allowed = True
    assert "code" not in plugin.get_template_vars()["status"]
    with_code = [(data, perms) for data, perms in received if code in str(data)]
    assert with_code and all(perms for _, perms in with_code), with_code[:2]

    assert {"type": "settings", "custom_bindings": True} in plugin.get_template_configs()
    assert plugin.get_template_vars()["status"]["state"] == "waiting"
    assert plugin.get_assets() == {"js": ["js/prusaconnect.js"], "css": ["css/prusaconnect.css"]}


def test_events_and_the_firmware_hook_reach_the_bridge(tmp_path, emulator):
    env = standins.make_plugin_env(str(tmp_path))
    plugin = plugin_module.PrusaConnectPlugin()
    env.inject(plugin)
    env.settings.set(["server"], emulator.url)
    env.settings.set(["printer_wait"], 30)
    try:
        # The hook fires before OctoPrint's startup is complete: kept for later.
        plugin.on_firmware_info(None, "Marlin", {"UUID": "11111111-2222-4333-8444-555555555555"})
        plugin.on_after_startup()
        assert wait_for(lambda: plugin._settings.get(["serial_number"])
                        == "11111111-2222-4333-8444-555555555555")
    finally:
        plugin.on_shutdown()
        env.event_bus.close()
