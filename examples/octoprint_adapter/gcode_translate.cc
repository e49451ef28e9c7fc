// Copyright 2026 The libprusaconnect Authors.
#include "gcode_translate.h"

#include <cctype>

namespace octoprint_adapter {

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
  return s.substr(b, e - b);
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "M701 S" → "M701"; "M862.3 P" → "M862.3".
std::string Word(const std::string& line) {
  size_t e = 0;
  while (e < line.size() && std::isspace(static_cast<unsigned char>(line[e])) == 0) ++e;
  return Upper(line.substr(0, e));
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      out.push_back(cur);
      cur.clear();
    } else if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out.push_back(cur);
      cur.clear();
      ++i;
    } else {
      cur += text[i];
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

GcodeTranslation TranslateGcode(const std::string& text) {
  GcodeTranslation t;
  for (std::string line : SplitLines(text)) {
    size_t semi = line.find(';');
    if (semi != std::string::npos) line.resize(semi);
    line = Trim(line);
    if (line.empty()) continue;
    std::string word = Word(line);
    if (word == "G80") {
      t.lines.emplace_back("G29");
    } else if (word == "G28") {
      // Drop the Prusa-only W parameter.
      std::string out = "G28";
      size_t i = 3;
      while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) != 0) ++i;
        size_t e = i;
        while (e < line.size() && std::isspace(static_cast<unsigned char>(line[e])) == 0) ++e;
        if (e > i) {
          std::string param = line.substr(i, e - i);
          if (std::toupper(static_cast<unsigned char>(param[0])) != 'W') out += " " + param;
        }
        i = e;
      }
      t.lines.push_back(out);
    } else if (word == "M701" || word == "M702") {
      t.ok = false;
      t.reason = word + (word == "M701" ? " (load filament)" : " (unload filament)") +
                 " is not supported by this Marlin printer through OctoPrint; change filament "
                 "at the printer or send M600";
      t.lines.clear();
      return t;
    } else if (word == "M486") {
      t.ok = false;
      t.reason =
          "M486 (cancel object) needs Marlin's CANCEL_OBJECTS, which this printer is not "
          "known to have";
      t.lines.clear();
      return t;
    } else if (word.rfind("M862", 0) == 0) {
      continue;  // Prusa printer/firmware checks: nothing to check on Marlin
    } else if (word == "PRUSA") {
      t.ok = false;
      t.reason = "\"" + line + "\" is a Prusa firmware command; Marlin has no equivalent";
      t.lines.clear();
      return t;
    } else if (word[0] != 'G' && word[0] != 'M' && word[0] != 'T') {
      t.ok = false;
      t.reason = "\"" + line + "\" is not a G-code command";
      t.lines.clear();
      return t;
    } else {
      t.lines.push_back(line);
    }
  }
  return t;
}

}  // namespace octoprint_adapter
