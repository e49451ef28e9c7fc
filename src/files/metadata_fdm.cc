// Copyright 2026 The libprusaconnect Authors.
//
// FDMMetaData: the comment and G-code lines of a G-code file's head and tail
// windows (quick_parse()), thumbnails included.
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <string>

#include "files/metadata.h"
#include "files/metadata_attrs.h"
#include "files/paths.h"
#include "files/pytext.h"

namespace prusaconnect::internal {

namespace {

constexpr int64_t kMaxM73SearchBytes = 100000;

constexpr struct {
  char letter;
  const char* attr;
} kM73Groups[] = {
    {'Q', "quiet_percent_present"},   {'S', "quiet_left_present"},
    {'C', "quiet_change_in_present"}, {'P', "normal_percent_present"},
    {'R', "normal_left_present"},     {'D', "normal_change_in_present"},
};

// Parses "; thumbnail[_QOI|_JPG] begin <dims> <size>"; false when the line
// is something else.
// r"; thumbnail_?(?P<format>QOI|JPG|) begin (?P<dim>[\w ]+) (?P<size>\d+)"
bool ParseThumbnailBegin(std::string_view line, std::string* format, std::string* dims,
                         int64_t* size) {
  constexpr std::string_view kPrefix = "; thumbnail";
  if (!StartsWith(line, kPrefix)) return false;
  size_t p = kPrefix.size();
  if (p < line.size() && line[p] == '_') ++p;
  std::string fmt;
  if (line.substr(p, 3) == "QOI" || line.substr(p, 3) == "JPG") {
    fmt = std::string(line.substr(p, 3));
    p += 3;
  }
  if (line.substr(p, 7) != " begin ") return false;
  p += 7;
  // [\w ]+ as far as it goes, then back off to the last " <digit>".
  size_t run_end = p;
  while (run_end < line.size()) {
    size_t len = 1;
    if (line[run_end] != ' ' && !IsWordAt(line, run_end, &len)) break;
    run_end += line[run_end] == ' ' ? 1 : len;
  }
  size_t k = std::string_view::npos;
  for (size_t i = run_end; i-- > p + 1;) {
    if (line[i] == ' ' && i + 1 < run_end && IsDigit(line[i + 1])) {
      k = i;
      break;
    }
  }
  if (k == std::string_view::npos) return false;
  *format = fmt.empty() ? "PNG" : fmt;
  *dims = std::string(line.substr(p, k - p));
  int64_t v = 0;
  for (size_t i = k + 1; i < line.size() && IsDigit(line[i]); ++i) {
    v = v > (std::numeric_limits<int64_t>::max() - 9) / 10 ? std::numeric_limits<int64_t>::max()
                                                           : v * 10 + (line[i] - '0');
  }
  *size = v;
  return true;
}

// r"; thumbnail_?(QOI|JPG)? end"
bool IsThumbnailEnd(std::string_view line) {
  constexpr std::string_view kPrefix = "; thumbnail";
  if (!StartsWith(line, kPrefix)) return false;
  size_t p = kPrefix.size();
  if (p < line.size() && line[p] == '_') ++p;
  if (line.substr(p, 3) == "QOI" || line.substr(p, 3) == "JPG") p += 3;
  return line.substr(p, 4) == " end";
}

// r"^;Z:\d+\.\d+$"
bool IsLayerChange(std::string_view line) {
  line = WithoutNewline(line);
  if (!StartsWith(line, ";Z:")) return false;
  size_t p = 3, start = p;
  while (p < line.size() && IsDigit(line[p])) ++p;
  if (p == start || p >= line.size() || line[p] != '.') return false;
  start = ++p;
  while (p < line.size() && IsDigit(line[p])) ++p;
  return p > start && p == line.size();
}

}  // namespace

bool FdmMetadataParser::M73Complete() const {
  for (const auto& g : kM73Groups) {
    if (!out_->data.contains(g.attr)) return false;
  }
  return true;
}

bool FdmMetadataParser::ProcessLine(std::string_view line) {
  if (!line.empty() && line.front() == ';') {
    if (!IsValidUtf8(line)) return false;  // UnicodeDecodeError
    return CommentLine(line);
  }
  if (M73Complete() || m73_searched_bytes_ > kMaxM73SearchBytes) return true;
  if (!IsValidUtf8(line)) return false;
  GcodeLine(line);
  m73_searched_bytes_ += static_cast<int64_t>(line.size());
  return true;
}

bool FdmMetadataParser::CommentLine(std::string_view line) {
  std::string format, dims;
  int64_t size;
  if (ParseThumbnailBegin(line, &format, &dims, &size)) {
    in_image_ = true;
    img_format_ = format;
    img_dims_ = dims;
    img_size_ = size;
    img_.clear();
    return true;
  }
  if (IsThumbnailEnd(line)) {
    if (!in_image_) return false;  // "".join(None): TypeError
    in_image_ = false;
    int64_t length = static_cast<int64_t>(Utf8Length(img_));
    AddThumbnail(out_, img_dims_ + "_" + img_format_, img_dims_, img_format_, std::move(img_));
    img_.clear();
    return length == img_size_;  // the assert comes after the image is kept
  }
  if (in_image_) {
    // line[2:].strip(): drops ';' and the next character.
    size_t skip = 1;
    if (line.size() > 1) {
      size_t len = 1;
      CodePointAt(line, 1, &len);
      skip += len;
    }
    img_.append(PyStrip(line.substr(std::min(skip, line.size()))));
  }
  // r"; (?P<key>.*?) = (?P<value>.*)$"
  std::string_view body = WithoutNewline(line);
  if (StartsWith(body, "; ")) {
    size_t eq = body.find(" = ", 2);
    if (eq != std::string_view::npos) {
      SetFdmAttr(&out_->data, body.substr(2, eq - 2), PyVal::Str(body.substr(eq + 3)));
    }
  }
  if (IsLayerChange(line)) SetFdmAttr(&out_->data, "layer_info_present", PyVal::True());
  return true;
}

void FdmMetadataParser::GcodeLine(std::string_view line) {
  // r"^[^;]*M73 ?(?:Q(\d+))? ?(?:S(\d+))? ?(?:C(\d+))? ?(?:P(\d+))? ?(?:R(\d+))?
  //   ?(?:D(\d+))? ?.*$" — greedy [^;]* takes the last "M73" before any ';'.
  size_t limit = line.find(';');
  if (limit == std::string_view::npos) limit = line.size();
  size_t at = std::string_view::npos;
  for (size_t i = 0; i + 3 <= line.size() && i <= limit; ++i) {
    if (line.compare(i, 3, "M73") == 0) at = i;
  }
  if (at == std::string_view::npos) return;
  size_t p = at + 3;
  auto space = [&] {
    if (p < line.size() && line[p] == ' ') ++p;
  };
  space();
  for (const auto& g : kM73Groups) {
    if (p + 1 < line.size() && line[p] == g.letter && IsDigit(line[p + 1])) {
      p += 2;
      while (p < line.size() && IsDigit(line[p])) ++p;
      SetFdmAttr(&out_->data, g.attr, PyVal::True());
    }
    space();
  }
}

namespace {

constexpr int64_t kHeadBytes = 800000;  // METADATA_START_OFFSET
constexpr int64_t kTailBytes = 40000;   // METADATA_END_OFFSET
// How far past the head window the line that crosses it may run before we
// cut it (gcode-metadata reads such a line whole, however long).
constexpr int64_t kLineCap = 65536;

bool ReadAt(int fd, int64_t offset, int64_t len, std::string* out) {
  out->resize(static_cast<size_t>(len));
  int64_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, out->data() + done, static_cast<size_t>(len - done), offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out->resize(static_cast<size_t>(done));
      return n == 0;
    }
    done += n;
  }
  return true;
}

// Feeds the lines of buf[from, to) to the parser; the last line may lack its
// newline. Returns the offset reached and false when the parser stopped.
bool FeedLines(const std::string& buf, size_t from, size_t stop_before, size_t* reached,
               FdmMetadataParser* parser) {
  size_t pos = from;
  while (pos < buf.size() && pos < stop_before) {
    size_t nl = std::string_view(buf).find('\n', pos);
    size_t end = nl == std::string_view::npos ? buf.size() : nl + 1;
    if (!parser->ProcessLine(std::string_view(buf).substr(pos, end - pos))) return false;
    pos = end;
  }
  *reached = pos;
  return true;
}

}  // namespace

void ReadFdmWindows(int fd, int64_t size, FdmMetadataParser* parser, GcodeMetadata* out) {
  std::string buf;
  size_t reached = 0;
  if (size <= kHeadBytes + kLineCap + kTailBytes) {
    // Small enough to read whole; walk it as quick_parse() does.
    ReadAt(fd, 0, size, &buf);
    size_t n = buf.size();
    size_t pos = 0;
    while (pos < n) {
      if (!(static_cast<int64_t>(pos) < kHeadBytes ||
            static_cast<int64_t>(pos) > static_cast<int64_t>(n) - kTailBytes)) {
        pos = n - static_cast<size_t>(kTailBytes);
      }
      size_t nl = std::string_view(buf).find('\n', pos);
      size_t end = nl == std::string_view::npos ? n : nl + 1;
      if (!parser->ProcessLine(std::string_view(buf).substr(pos, end - pos))) {
        out->complete = false;
        return;
      }
      pos = end;
    }
    return;
  }
  ReadAt(fd, 0, kHeadBytes + kLineCap, &buf);
  if (!FeedLines(buf, 0, static_cast<size_t>(kHeadBytes), &reached, parser)) {
    out->complete = false;
    return;
  }
  // Past the head window: jump to the tail, which starts mid-line.
  ReadAt(fd, size - kTailBytes, kTailBytes, &buf);
  if (!FeedLines(buf, 0, buf.size(), &reached, parser)) out->complete = false;
}

}  // namespace prusaconnect::internal
