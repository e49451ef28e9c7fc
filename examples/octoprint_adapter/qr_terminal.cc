// Copyright 2026 The libprusaconnect Authors.
#include "qr_terminal.h"

#ifdef OCTOPRINT_ADAPTER_HAVE_QRENCODE
#include <qrencode.h>
#endif

namespace octoprint_adapter {

std::string QrForTerminal(const std::string& text) {
#ifdef OCTOPRINT_ADAPTER_HAVE_QRENCODE
  QRcode* qr = QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_L);
  if (qr == nullptr) return "";
  const int quiet = 2;
  const int w = qr->width;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= w || y >= w) return false;
    return (qr->data[y * w + x] & 1) != 0;
  };
  // Light modules are drawn as blocks (light on a dark terminal is the
  // common case, and phones read inverted codes too, but a light quiet zone
  // reads best): a full block for light/light, half blocks otherwise.
  std::string out;
  for (int y = -quiet; y < w + quiet; y += 2) {
    for (int x = -quiet; x < w + quiet; ++x) {
      bool top = !dark(x, y), bottom = !dark(x, y + 1);
      if (top && bottom) {
        out += "\xe2\x96\x88";  // █
      } else if (top) {
        out += "\xe2\x96\x80";  // ▀
      } else if (bottom) {
        out += "\xe2\x96\x84";  // ▄
      } else {
        out += " ";
      }
    }
    out += "\n";
  }
  QRcode_free(qr);
  return out;
#else
  (void)text;
  return "";
#endif
}

std::string QrSvg(const std::string& text) {
#ifdef OCTOPRINT_ADAPTER_HAVE_QRENCODE
  QRcode* qr = QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M);
  if (qr == nullptr) return "";
  const int quiet = 4;
  const int w = qr->width;
  const int size = w + 2 * quiet;
  std::string path;
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      if ((qr->data[y * w + x] & 1) == 0) continue;
      path += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h1v1h-1z";
    }
  }
  QRcode_free(qr);
  std::string n = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + n + " " + n +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + n + "\" height=\"" + n +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>\n";
#else
  (void)text;
  return "";
#endif
}

}  // namespace octoprint_adapter
