// Copyright 2026 The libprusaconnect Authors.
//
// A QR code of a text drawn with Unicode half blocks for a terminal (two
// modules per character row, with the quiet zone). Uses libqrencode when the
// build found it (Debian: libqrencode-dev); otherwise returns "".
#ifndef PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_QR_TERMINAL_H_
#define PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_QR_TERMINAL_H_

#include <string>

namespace octoprint_adapter {

std::string QrForTerminal(const std::string& text);
// The same code as an SVG image (one <path>, 4 modules of quiet zone), for
// web pages; "" without libqrencode.
std::string QrSvg(const std::string& text);

}  // namespace octoprint_adapter

#endif  // PRUSACONNECT_EXAMPLES_OCTOPRINT_ADAPTER_QR_TERMINAL_H_
