// Copyright 2026 The libprusaconnect Authors.
//
// virtual_printer: a simulated printer that lives in Prusa Connect (or the
// local emulator). It shows the whole life of a Printer with only the public
// API: registration with a code, telemetry every second, state changes, and
// command handlers (G-code, print control), with a short print simulation.
//
//   virtual_printer --server http://127.0.0.1:8000 [--token T] [--sn SN]
//                   [--seconds N] [--token-file PATH]
//
// Without a token it registers and prints the code to type into Connect's
// "Add printer" form; the token is written to --token-file when given.
#include <prusaconnect/prusaconnect.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace pc = prusaconnect;

namespace {

std::atomic<bool> g_stop{false};

void Say(const std::string& line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::printf("[virtual printer] %s\n", line.c_str());
  std::fflush(stdout);
}

struct Options {
  std::string server = "http://127.0.0.1:8000";
  std::string token;
  std::string token_file;
  std::string sn = "VIRTUAL-0001";
  std::string storage;  // a folder attached as "/usb"
  int seconds = 0;      // 0: run until SIGINT/SIGTERM
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string tmp;
    if (a == "--server" && value(&o->server)) continue;
    if (a == "--token" && value(&o->token)) continue;
    if (a == "--token-file" && value(&o->token_file)) continue;
    if (a == "--sn" && value(&o->sn)) continue;
    if (a == "--storage" && value(&o->storage)) continue;
    if (a == "--seconds" && value(&tmp)) {
      o->seconds = std::atoi(tmp.c_str());
      continue;
    }
    std::fprintf(stderr,
                 "usage: %s [--server URL] [--token TOKEN] [--token-file PATH] [--sn SERIAL] "
                 "[--storage DIR] [--seconds N]\n",
                 argv[0]);
    return false;
  }
  return true;
}

// The simulated machine.
struct Machine {
  std::mutex mu;
  double nozzle = 25, bed = 25, target_nozzle = 0, target_bed = 0;
  bool printing = false, paused = false;
  int progress = 0;
  int64_t printed_s = 0;
  std::string file;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) return 2;
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  pc::SetLogSink(pc::StderrLogSink());
  pc::SetLogLevel(pc::LogLevel::kWarning);

  pc::PrinterOptions popt;
  popt.background_handlers = true;  // handlers run on the library's handler threads
  pc::Printer printer(pc::PrinterType::I3MK3S, opt.sn, pc::FingerprintFromSerial(opt.sn), popt);
  printer.set_firmware("3.14.1-virtual");
  pc::NetworkInfo net;
  net.hostname = "virtual-printer";
  printer.set_network_info(net);
  printer.set_connection(opt.server, opt.token);

  Machine m;

  printer.set_handler(
      pc::Command::GCODE, [&](const pc::CommandRequest& c) -> pc::StatusOr<pc::CommandResult> {
        std::string gcode = c.kwargs.find("gcode") ? c.kwargs.find("gcode")->as_string() : "";
        Say("command " + std::to_string(c.command_id) + ": GCODE \"" + gcode + "\"");
        std::lock_guard<std::mutex> lock(m.mu);
        if (gcode.rfind("M104", 0) == 0 || gcode.rfind("M109", 0) == 0) {
          size_t s = gcode.find('S');
          if (s != std::string::npos) m.target_nozzle = std::atof(gcode.c_str() + s + 1);
        } else if (gcode.rfind("M140", 0) == 0 || gcode.rfind("M190", 0) == 0) {
          size_t s = gcode.find('S');
          if (s != std::string::npos) m.target_bed = std::atof(gcode.c_str() + s + 1);
        }
        pc::CommandResult r;
        r.source = pc::Source::MARLIN;
        return r;
      });
  printer.set_handler(
      pc::Command::START_PRINT,
      [&](const pc::CommandRequest& c) -> pc::StatusOr<pc::CommandResult> {
        const pc::Json* path = c.kwargs.find("path");
        if (path == nullptr || !path->is_string()) {
          return pc::InvalidArgumentError("START_PRINT requires kwargs 'path'");
        }
        {
          std::lock_guard<std::mutex> lock(m.mu);
          if (m.printing) return pc::FailedPreconditionError("Already printing");
          m.printing = true;
          m.paused = false;
          m.progress = 0;
          m.printed_s = 0;
          m.file = path->as_string();
          m.target_nozzle = 215;
          m.target_bed = 60;
        }
        Say("command " + std::to_string(c.command_id) + ": START_PRINT " + path->as_string());
        printer.set_job_id(static_cast<int64_t>(std::time(nullptr)) % 100000);
        printer.set_state(pc::State::PRINTING, pc::Source::CONNECT);
        pc::CommandResult r;
        r.source = pc::Source::CONNECT;
        return r;
      });
  auto control = [&](pc::State next, const char* name, bool need_printing) {
    return [&, next, name,
            need_printing](const pc::CommandRequest& c) -> pc::StatusOr<pc::CommandResult> {
      {
        std::lock_guard<std::mutex> lock(m.mu);
        if (need_printing && !m.printing) {
          return pc::FailedPreconditionError(std::string("Not printing: cannot ") + name);
        }
        m.paused = next == pc::State::PAUSED;
        if (next == pc::State::STOPPED) m.printing = false;
      }
      Say("command " + std::to_string(c.command_id) + ": " + name);
      printer.set_state(next, pc::Source::CONNECT);
      return pc::CommandResult{};
    };
  };
  printer.set_handler(pc::Command::PAUSE_PRINT, control(pc::State::PAUSED, "PAUSE_PRINT", true));
  printer.set_handler(pc::Command::RESUME_PRINT,
                      control(pc::State::PRINTING, "RESUME_PRINT", true));
  printer.set_handler(pc::Command::STOP_PRINT, control(pc::State::STOPPED, "STOP_PRINT", true));

  printer.conditions().API.add_broke_callback(
      [](const pc::Condition& c, pc::CondState) { Say("connection problem: " + c.long_msg()); });

  printer.start();
  if (opt.token.empty()) {
    std::atomic<bool> registered{false};
    printer.set_register_handler([&](const std::string& token) {
      Say("registered: Connect handed out a token");
      if (!opt.token_file.empty()) {
        std::ofstream(opt.token_file) << token << "\n";
      }
      registered = true;
    });
    pc::StatusOr<std::string> code = printer.register_printer();
    if (!code.ok()) {
      std::fprintf(stderr, "registration failed: %s\n", code.status().ToString().c_str());
      return 1;
    }
    Say("registration code: " + *code + "  (type it into Connect's \"Add printer\" form: " +
        opt.server + "/add-printer/connect/" + std::to_string(printer.type()->type()) + "." +
        std::to_string(printer.type()->version()) + "/" + *code + ")");
    while (!registered && !g_stop) {
      if (printer.registration_status() == pc::RegistrationStatus::NO_REGISTRATION) {
        std::fprintf(stderr, "registration code expired or was refused\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (!opt.storage.empty()) {
    pc::Status attached = printer.attach(opt.storage, "usb");
    if (!attached.ok()) {
      std::fprintf(stderr, "cannot attach %s: %s\n", opt.storage.c_str(),
                   attached.message().c_str());
      return 1;
    }
    Say("storage /usb is " + opt.storage);
    printer.set_download_finished_cb([](const pc::TransferInfo& t) {
      Say("download finished: " + t.path + " (" + std::to_string(t.transferred) + " bytes)");
    });
  }
  printer.set_state(pc::State::READY, pc::Source::USER, true);
  Say("online as " + opt.sn + "; sending telemetry every second");

  auto start = std::chrono::steady_clock::now();
  int tick = 0;
  while (!g_stop) {
    pc::Telemetry t;
    {
      std::lock_guard<std::mutex> lock(m.mu);
      // Heaters approach their targets; a print advances 5 % per second.
      m.nozzle += (std::max(m.target_nozzle, 25.0) - m.nozzle) * 0.3;
      m.bed += (std::max(m.target_bed, 25.0) - m.bed) * 0.3;
      if (m.printing && !m.paused) {
        ++m.printed_s;
        m.progress = std::min(100, m.progress + 5);
      }
      t.temp_nozzle = static_cast<int>(m.nozzle * 10) / 10.0;
      t.temp_bed = static_cast<int>(m.bed * 10) / 10.0;
      t.target_nozzle = m.target_nozzle;
      t.target_bed = m.target_bed;
      t.axis_z = 0.2;
      t.fan_print = m.printing ? 3000 : 0;
      t.speed = 100;
      t.flow = 100;
      if (m.printing) {
        t.progress = m.progress;
        t.time_printing = m.printed_s;
        t.time_remaining = (100 - m.progress) / 5;
      }
    }
    printer.telemetry(t);
    bool done = false;
    {
      std::lock_guard<std::mutex> lock(m.mu);
      if (m.printing && m.progress >= 100) {
        m.printing = false;
        m.target_nozzle = m.target_bed = 0;
        done = true;
      }
    }
    if (done) {
      Say("print finished");
      printer.set_state(pc::State::FINISHED, pc::Source::MARLIN);
      printer.set_job_id(std::nullopt);
    }
    if (++tick % 5 == 0) {
      pc::PrinterStats s = printer.stats();
      Say("telemetry sent " + std::to_string(s.telemetry_sent) + ", events sent " +
          std::to_string(s.events_sent) + ", commands received " +
          std::to_string(s.commands_received));
    }
    if (opt.seconds > 0 &&
        std::chrono::steady_clock::now() - start >= std::chrono::seconds(opt.seconds)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  printer.flush(5000);
  pc::PrinterStats s = printer.stats();
  Say("done: telemetry sent " + std::to_string(s.telemetry_sent) + ", events sent " +
      std::to_string(s.events_sent) + ", events dropped " +
      std::to_string(s.events_dropped_overflow + s.events_dropped_rejected));
  return 0;
}
