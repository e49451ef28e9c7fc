"""The OctoPrint plugin's tests run without OctoPrint: the plugin's OctoPrint
side imports `octoprint.plugin` (and, lazily, octoprint.filemanager.util,
octoprint.access.permissions, flask), which this file provides as small
modules mirroring OctoPrint 1.10.3's (plugin/types.py mixins with their
default implementations where the plugin calls them); the injected objects
(printer, file manager, settings, events) are standins.py's.

CTest sets PYTHONPATH (build/python and examples/octoprint_plugin) and
PRUSACONNECT_EMULATOR. By hand:
    PYTHONPATH=build/python:examples/octoprint_plugin \\
    PRUSACONNECT_EMULATOR=build/src/emulator/prusaconnect-emulator \\
        /usr/bin/python3 -m pytest -q tests/octoprint_plugin
"""
import copy
import os
import sys
import types

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "octoprint"))  # harness.py: the emulator


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _install_octoprint_stubs():
    if "octoprint" in sys.modules:
        return

    class Plugin:  # octoprint/plugin/core.py
        def __init__(self):
            self._identifier = None
            self._plugin_name = None
            self._basefolder = None
            self._logger = None

    class SettingsPlugin(Plugin):  # octoprint/plugin/types.py (1.10.3)
        config_version_key = "_config_version"

        def __init__(self):
            super().__init__()
            self._settings = None

        def on_settings_load(self):
            data = copy.deepcopy(self._settings.get_all_data(merged=True))
            data.pop(self.config_version_key, None)
            return data

        def on_settings_save(self, data):
            for key, value in (data or {}).items():
                self._settings.set([key], value)
            self._settings.save()
            return data

        def get_settings_defaults(self):
            return {}

        def get_settings_restricted_paths(self):
            return {}

    mixins = {name: type(name, (Plugin,), {}) for name in (
        "StartupPlugin", "ShutdownPlugin", "TemplatePlugin", "AssetPlugin", "SimpleApiPlugin",
        "EventHandlerPlugin", "ProgressPlugin")}
    octoprint = _module("octoprint")
    octoprint.plugin = _module("octoprint.plugin", SettingsPlugin=SettingsPlugin, Plugin=Plugin,
                               **mixins)

    class _Permission:
        allowed = True

        def can(self):
            return self.allowed

    octoprint.access = _module("octoprint.access")
    octoprint.access.permissions = _module(
        "octoprint.access.permissions",
        Permissions=types.SimpleNamespace(ADMIN=_Permission(), STATUS=_Permission()))
    import standins  # pylint: disable=import-outside-toplevel
    octoprint.filemanager = _module("octoprint.filemanager")
    octoprint.filemanager.util = _module("octoprint.filemanager.util",
                                         DiskFileWrapper=standins.DiskFileWrapper,
                                         StreamWrapper=standins.StreamWrapper)


_install_octoprint_stubs()


@pytest.fixture(scope="session")
def emulator():
    from harness import Emulator  # pylint: disable=import-outside-toplevel
    path = os.environ.get("PRUSACONNECT_EMULATOR", "")
    if not os.access(path, os.X_OK):
        pytest.fail("PRUSACONNECT_EMULATOR does not name the emulator executable")
    emu = Emulator(path)
    yield emu
    emu.stop()


def _install_flask_stub():
    """The two flask calls the plugin's API makes (OctoPrint brings Flask;
    the test machine need not): jsonify and abort."""
    try:
        import flask  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        return
    except ImportError:
        pass

    class HTTPException(Exception):
        def __init__(self, code, description):
            super().__init__(description)
            self.code, self.description = code, description

    def abort(code, description=None):
        raise HTTPException(code, description)

    _module("flask", jsonify=lambda data: data, abort=abort, HTTPException=HTTPException)


_install_flask_stub()
