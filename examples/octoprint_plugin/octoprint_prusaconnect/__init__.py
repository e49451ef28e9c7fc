"""OctoPrint-PrusaConnect: the printer OctoPrint manages, live in Prusa
Connect, from inside OctoPrint (docs/octoprint-plugin.md).

This module is the OctoPrint side only: the mixins hand OctoPrint's injected
objects and events to the Bridge (bridge.py), which does the work on the
`prusaconnect` module (libprusaconnect's Python bindings).
"""
import octoprint.plugin

from . import bridge

__plugin_name__ = "Prusa Connect"
__plugin_version__ = "0.1.0"
__plugin_description__ = "Puts the printer OctoPrint manages into Prusa Connect"
__plugin_author__ = "The libprusaconnect Authors"
__plugin_license__ = "LGPL-2.1-or-later"
__plugin_url__ = "https://connect.prusa3d.com"
__plugin_pythoncompat__ = ">=3.7,<4"
__plugin_privacypolicy__ = ("Sends the printer's state, temperatures, job progress, file list "
                            "and (when enabled) webcam snapshots to Prusa Connect.")


def _wrap_file(name, path):
    from octoprint.filemanager.util import DiskFileWrapper  # pylint: disable=import-outside-toplevel
    return DiskFileWrapper(name, path, move=False)


def _can(name):
    """Whether the user of this request has OctoPrint's permission `name`
    (ADMIN, STATUS)."""
    try:
        from octoprint.access.permissions import Permissions  # pylint: disable=import-outside-toplevel
        return getattr(Permissions, name).can()
    except Exception:  # pylint: disable=broad-except
        return False


def _admin_permissions():
    try:
        from octoprint.access.permissions import Permissions  # pylint: disable=import-outside-toplevel
        return [Permissions.ADMIN]
    except Exception:  # pylint: disable=broad-except
        return None


class PrusaConnectPlugin(octoprint.plugin.StartupPlugin,
                         octoprint.plugin.ShutdownPlugin,
                         octoprint.plugin.SettingsPlugin,
                         octoprint.plugin.TemplatePlugin,
                         octoprint.plugin.AssetPlugin,
                         octoprint.plugin.SimpleApiPlugin,
                         octoprint.plugin.EventHandlerPlugin,
                         octoprint.plugin.ProgressPlugin):
    """Each mixin is used for what OctoPrint users expect of it."""

    def __init__(self):
        super().__init__()
        self.bridge = None
        self._firmware_data = None  # an M115 report that came before the bridge

    # ---- StartupPlugin / ShutdownPlugin
    def on_after_startup(self):
        firmware = getattr(self._printer, "firmware_info", None) or {}
        data = self._firmware_data or firmware.get("data")
        _log_library_to_octoprint_log()
        self.bridge = bridge.Bridge(
            self._printer, self._file_manager, self._settings, send_message=self._send_status,
            notify=self._notify, wrap_file=_wrap_file, logger=self._logger,
            firmware_info=data)
        self.bridge.start()  # returns at once: OctoPrint's start is not held up

    def on_shutdown(self):
        if self.bridge is not None:
            self.bridge.stop(timeout=5.0)

    def _send_status(self, status):
        # Everybody logged in sees the state; only administrators the code
        # (whoever has it can add the printer to their Connect account).
        self._plugin_manager.send_plugin_message(
            self._identifier, {"type": "status", "status": bridge.redact(status)})
        self._plugin_manager.send_plugin_message(
            self._identifier, {"type": "status", "status": status},
            permissions=_admin_permissions())

    def _notify(self, text):
        self._plugin_manager.send_plugin_message(self._identifier,
                                                 {"type": "notify", "text": text},
                                                 permissions=_admin_permissions())

    # ---- SettingsPlugin
    def get_settings_defaults(self):
        return dict(bridge.DEFAULTS)

    def get_settings_restricted_paths(self):
        return {"admin": [["token"], ["camera_token"], ["server"]]}

    def on_settings_load(self):
        data = octoprint.plugin.SettingsPlugin.on_settings_load(self)
        # The browser never sees a token in full; a non-admin not at all
        # (OctoPrint's restriction already removed it for them).
        if _can("ADMIN"):
            data["token"] = bridge.mask(self._settings.get(["token"]) or "")
            data["camera_token"] = bridge.mask(self._settings.get(["camera_token"]) or "")
        else:
            data["token"] = data["camera_token"] = None
        return data

    def on_settings_save(self, data):
        data = dict(data or {})
        for key in ("token", "camera_token", "serial_number", "serial_source",
                    "last_job_id", "job_path"):
            data.pop(key, None)  # masked, or the plugin's own bookkeeping
        before = {key: self._settings.get([key]) for key in bridge.DEFAULTS}
        octoprint.plugin.SettingsPlugin.on_settings_save(self, data)
        changed = [key for key in bridge.DEFAULTS if self._settings.get([key]) != before[key]]
        if changed and self.bridge is not None:
            self.bridge.settings_changed(changed)  # applied without restarting OctoPrint
        return data

    # ---- TemplatePlugin / AssetPlugin
    def get_template_configs(self):
        return [{"type": "settings", "custom_bindings": True},
                {"type": "navbar", "custom_bindings": True}]

    def get_template_vars(self):
        # The first paint of the page (the view model keeps it live).
        # The page is rendered before anyone logs in: no code in it.
        status = self.bridge.status() if self.bridge is not None else {"state": "starting"}
        return {"status": bridge.redact(status), "labels": bridge.STATE_LABELS}

    def get_assets(self):
        return {"js": ["js/prusaconnect.js"], "css": ["css/prusaconnect.css"]}

    # ---- SimpleApiPlugin (1.10 does not check logins here: we do)
    def get_api_commands(self):
        return {"register": [], "reset": []}

    def on_api_get(self, request):
        import flask  # pylint: disable=import-outside-toplevel
        if not _can("STATUS"):
            flask.abort(403, description="Prusa Connect: log in to see the status")
        status = self.bridge.status() if self.bridge else {"state": "starting"}
        # A dict is a JSON answer (Flask 2, OctoPrint 1.9+).
        return status if _can("ADMIN") else bridge.redact(status)

    def on_api_command(self, command, data):
        import flask  # pylint: disable=import-outside-toplevel
        if not _can("ADMIN"):
            flask.abort(403, description="Prusa Connect: only an administrator may do that")
        if self.bridge is None:
            flask.abort(409, description="Prusa Connect is still starting")
        if command == "register":
            self.bridge.request_registration()
        elif command == "reset":
            self.bridge.reset_registration()
        return self.bridge.status()

    # ---- EventHandlerPlugin / ProgressPlugin
    def on_event(self, event, payload):
        if self.bridge is not None:
            self.bridge.on_event(event, payload)

    def on_print_progress(self, storage, path, progress):
        if self.bridge is not None:
            self.bridge.on_print_progress(storage, path, progress)

    # ---- octoprint.comm.protocol.firmware.info (a serial thread: record only)
    def on_firmware_info(self, comm_instance, firmware_name, firmware_data, *args, **kwargs):
        self._firmware_data = dict(firmware_data or {})
        if self.bridge is not None:
            self.bridge.on_firmware_info(firmware_name, firmware_data)


def _log_library_to_octoprint_log():
    """libprusaconnect's records go to Python's "connect-printer" logger;
    give it the handlers of OctoPrint's own logger, so they land in
    octoprint.log and not only on stdout."""
    import logging  # pylint: disable=import-outside-toplevel
    library = logging.getLogger("connect-printer")
    octoprint_logger = logging.getLogger("octoprint")
    if octoprint_logger.handlers and not library.handlers:
        for handler in octoprint_logger.handlers:
            library.addHandler(handler)
        library.propagate = False


__plugin_implementation__ = PrusaConnectPlugin()
__plugin_hooks__ = {
    "octoprint.comm.protocol.firmware.info": __plugin_implementation__.on_firmware_info,
}
