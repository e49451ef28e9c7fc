/* OctoPrint-PrusaConnect: the settings page and the navbar indicator, kept
 * live by the plugin's messages ({"type": "status", "status": {...}}). */
$(function () {
    function PrusaConnectViewModel(parameters) {
        var self = this;
        self.settingsViewModel = parameters[0];
        self.loginState = parameters[1];
        self.settings = undefined;
        self.status = ko.observable({state: "starting", problem: null, code: null, url: null,
                                     qr: null, serial_number: "", printer_type: "",
                                     connect_state: null});

        var labels = {starting: "Starting", not_registered: "Not registered",
                      waiting: "Waiting for code", registered: "Online", offline: "Offline"};
        self.navbarText = ko.pureComputed(function () {
            return "Connect: " + (labels[self.status().state] || self.status().state);
        });
        self.navbarTitle = ko.pureComputed(function () {
            var s = self.status();
            if (s.state === "waiting") return "Enter code " + s.code + " at Prusa Connect";
            if (s.problem) return s.problem;
            return "Prusa Connect: " + (labels[s.state] || s.state);
        });

        self.refresh = function () {
            OctoPrint.simpleApiGet("prusaconnect").done(function (data) { self.status(data); });
        };
        self.command = function (name) {
            OctoPrint.simpleApiCommand("prusaconnect", name, {}).done(function (data) {
                self.status(data);
            });
        };
        self.register = function () { self.command("register"); };
        self.reset = function () {
            if (confirm("Forget this printer's Prusa Connect token and register it again?")) {
                self.command("reset");
            }
        };
        self.openSettings = function () {
            self.settingsViewModel.show("#settings_plugin_prusaconnect");
        };

        self.onBeforeBinding = function () {
            self.settings = self.settingsViewModel.settings;
        };
        self.onStartupComplete = self.refresh;
        self.onUserLoggedIn = self.refresh;
        self.onDataUpdaterPluginMessage = function (plugin, data) {
            if (plugin !== "prusaconnect") return;
            if (data.type === "status") {
                self.status(data.status);
            } else if (data.type === "notify") {
                new PNotify({title: "Prusa Connect", text: data.text, type: "info", hide: false});
            }
        };
    }

    OCTOPRINT_VIEWMODELS.push({
        construct: PrusaConnectViewModel,
        dependencies: ["settingsViewModel", "loginStateViewModel"],
        elements: ["#prusaconnect_settings", "#navbar_plugin_prusaconnect"]
    });
});
