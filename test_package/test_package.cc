// Uses the packaged headers and library: identity, constants, JSON and a
// Printer object (no network traffic). Exits non-zero when the library
// does not answer as the SDK it ports (0.8.1).
#include <prusaconnect/prusaconnect.h>

#include <cstdio>

int main() {
  prusaconnect::Printer printer(prusaconnect::PrinterType::I3MK3, "SN-CONAN",
                                prusaconnect::FingerprintFromSerial("SN-CONAN"));
  if (!printer.is_initialised()) return 1;
  prusaconnect::Json info = printer.get_info();
  std::printf("libprusaconnect %s, state %s, sdk %s\n", prusaconnect::Version(),
              prusaconnect::ToString(prusaconnect::State::READY),
              info.find("sdk")->as_string().c_str());
  return info.find("sdk")->as_string() == "0.8.1" ? 0 : 2;
}
