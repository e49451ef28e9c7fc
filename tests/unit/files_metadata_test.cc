// Copyright 2026 The libprusaconnect Authors.
//
// The metadata reader against the golden corpus of tests/data/gcode: for
// every file, the keys, value types, values and order that Prusa's
// gcode-metadata (the SDK's dependency, 6741caf) extracted, captured by
// tests/data/gcode/capture_expected.py; plus the 200 MB file assembled at
// test time, read through the head and tail windows only.
#include <dirent.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "files/metadata.h"
#include "files/zip.h"
#include "files_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prusaconnect/files.h"

namespace prusaconnect {
namespace {

using testing_files::CorpusDir;
using testing_files::JsonIdentical;
using testing_files::ReadText;
using testing_files::TempDir;

Json LoadExpected(const std::string& file) {
  StatusOr<Json> j = Json::Parse(ReadText(CorpusDir() + "/expected/" + file + ".json"));
  EXPECT_TRUE(j.ok()) << file;
  return j.ok() ? *j : Json();
}

std::vector<std::string> ExpectedFiles() {
  std::vector<std::string> names;
  if (DIR* d = opendir((CorpusDir() + "/expected").c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json")
        names.push_back(n.substr(0, n.size() - 5));
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ExpectMatchesCapture(const GcodeMetadata& meta, const Json& expected) {
  const std::string file = expected.find("file")->as_string();
  EXPECT_TRUE(JsonIdentical(meta.data, *expected.find("data"))) << file;
  const Json& thumbs = *expected.find("thumbnails");
  ASSERT_EQ(meta.thumbnails.size(), thumbs.size()) << file;
  for (size_t i = 0; i < thumbs.size(); ++i) {
    EXPECT_EQ(meta.thumbnails[i].key, thumbs[i].find("key")->as_string()) << file;
    EXPECT_EQ(meta.thumbnails[i].data, thumbs[i].find("data")->as_string()) << file;
  }
  EXPECT_EQ(meta.complete, !expected.find("parse_stopped")->as_bool()) << file;
}

TEST(GcodeMetadataTest, CorpusMatchesGcodeMetadataCaptures) {
  std::vector<std::string> files = ExpectedFiles();
  ASSERT_GE(files.size(), 15u) << "expected outputs missing in " << CorpusDir();
  int checked = 0;
  for (const std::string& file : files) {
    if (file == "large_200mb.gcode") continue;  // assembled by its own test
    SCOPED_TRACE(file);
    StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(CorpusDir() + "/" + file);
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    ExpectMatchesCapture(*meta, LoadExpected(file));
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(GcodeMetadataTest, ReadingTwiceGivesTheSameAnswerAndWritesNoCache) {
  TempDir dir;
  std::string name = "prusaslicer_box_0.4n_0.2mm_PLA_MK4IS_1h2m.gcode";
  testing_files::WriteText(dir / name, ReadText(CorpusDir() + "/" + name));
  StatusOr<GcodeMetadata> a = ReadGcodeMetadata(dir / name);
  StatusOr<GcodeMetadata> b = ReadGcodeMetadata(dir / name);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(JsonIdentical(a->data, b->data));
  ASSERT_NE(a->Preview(), nullptr);
  EXPECT_EQ(a->Preview()->data, b->Preview()->data);
  // Exactly one entry: the file itself (no ".<name>.cache" beside it).
  std::string listing = testing_files::Snapshot(dir.path());
  EXPECT_EQ(std::count(listing.begin(), listing.end(), '\n'), 1) << listing;
}

TEST(GcodeMetadataTest, PreviewIsTheLargestPngNeverQoi) {
  // PrusaSlicer: PNG 16x16 and 313x173, QOI 16x16 and 480x240. The SDK sent
  // the longest base64 (the 480x240 QOI, which browsers cannot show).
  std::string name = "prusaslicer_box_0.4n_0.2mm_PLA_MK4IS_1h2m.gcode";
  StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(CorpusDir() + "/" + name);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(LoadExpected(name).find("sdk_preview_key")->as_string(), "480x240_QOI");
  ASSERT_NE(meta->Preview(), nullptr);
  EXPECT_EQ(meta->Preview()->key, "313x173_PNG");
  EXPECT_EQ(meta->Preview()->width, 313);
  EXPECT_EQ(meta->Preview()->height, 173);
}

TEST(GcodeMetadataTest, PreviewFallsBackToJpgAndKeepsTinyPng) {
  StatusOr<GcodeMetadata> jpg = ReadGcodeMetadata(CorpusDir() + "/superslicer_jpg_only.gcode");
  ASSERT_TRUE(jpg.ok());
  ASSERT_NE(jpg->Preview(), nullptr);
  EXPECT_EQ(jpg->Preview()->key, "320x240_JPG");
  // A 16x16-only file keeps its preview on every call (quirk Q14).
  StatusOr<GcodeMetadata> tiny = ReadGcodeMetadata(CorpusDir() + "/hello.gcode");
  ASSERT_TRUE(tiny.ok());
  ASSERT_NE(tiny->Preview(), nullptr);
  EXPECT_EQ(tiny->Preview()->key, "16x16_PNG");
  StatusOr<GcodeMetadata> none = ReadGcodeMetadata(CorpusDir() + "/plain_no_metadata.gcode");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->Preview(), nullptr);
}

// /proc/self/io rchar: bytes this process read through read()/pread().
int64_t BytesRead() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

TEST(GcodeMetadataTest, LargeFileIsReadThroughItsWindowsOnly) {
  StatusOr<Json> recipe = Json::Parse(ReadText(CorpusDir() + "/large_recipe.json"));
  ASSERT_TRUE(recipe.ok());
  TempDir dir;
  std::string path = dir / recipe->find("name")->as_string();
  {
    std::ofstream out(path, std::ios::binary);
    out << ReadText(CorpusDir() + "/" + recipe->find("head")->as_string());
    std::string line = recipe->find("filler_line")->as_string();
    int64_t count = recipe->find("filler_count")->as_int();
    std::string block;
    for (int i = 0; i < 10000; ++i) block += line;
    for (int64_t i = 0; i < count / 10000; ++i) out << block;
    for (int64_t i = 0; i < count % 10000; ++i) out << line;
    out << ReadText(CorpusDir() + "/" + recipe->find("tail")->as_string());
  }
  Json expected = LoadExpected(recipe->find("name")->as_string());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  ASSERT_EQ(st.st_size, expected.find("size")->as_int());

  int64_t before = BytesRead();
  StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(path);
  int64_t read = BytesRead() - before;
  ASSERT_TRUE(meta.ok());
  ExpectMatchesCapture(*meta, expected);
  EXPECT_GT(read, 800000);
  EXPECT_LT(read, 1000000) << "read " << read << " bytes of " << st.st_size;
}

TEST(GcodeMetadataTest, NonPrintFilesAreRefused) {
  TempDir dir;
  testing_files::WriteText(dir / "notes.txt", "; temperature = 200\n");
  StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(dir / "notes.txt");
  EXPECT_EQ(meta.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadGcodeMetadata(dir / "missing.gcode").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(HasGcodeMetadata("A.GCODE"));
  EXPECT_TRUE(HasGcodeMetadata("x.gco"));
  EXPECT_TRUE(HasGcodeMetadata("print.sl1s"));
  EXPECT_FALSE(HasGcodeMetadata("print.bgcode"));
  EXPECT_FALSE(HasGcodeMetadata("fw.hex"));
}

TEST(GcodeMetadataTest, FilenameNumberThatDoesNotParseSkipsOnlyThatKey) {
  // gcode-metadata raises on float(".") and loses every key of the file;
  // we skip the nozzle only (docs/FILES.md).
  TempDir dir;
  testing_files::WriteText(dir / "box.new_0.2mm_MK4.gcode", "; temperature = 215\n");
  StatusOr<GcodeMetadata> meta = ReadGcodeMetadata(dir / "box.new_0.2mm_MK4.gcode");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->data.Dump(), R"({"layer_height":0.2,"printer_model":"MK4","temperature":215})");
}

TEST(GcodeMetadataTest, FilenameRules) {
  auto from = [](const std::string& name) {
    Json data = Json::MakeObject();
    internal::MetadataFromFilename(name, &data);
    return data.Dump();
  };
  // extract_data()'s doctests.
  EXPECT_EQ(from("HP_PLA,PLA_MK3SMMU3_3h22m.gcode"),
            R"({"filament_type":"PLA","printer_model":"MK3SMMU3",)"
            R"j("estimated printing time (normal mode)":"3h22m"})j");
  EXPECT_EQ(from("sh_bn_0.6n_0.32mm_PETG_MK4_8h55m.gcode"),
            R"({"nozzle_diameter":0.6,"layer_height":0.32,"filament_type":"PETG",)"
            R"j("printer_model":"MK4","estimated printing time (normal mode)":"8h55m"})j");
  EXPECT_EQ(from("42.gcode"), "{}");
  EXPECT_EQ(from("Tisk tohoto souboru bude trvat 1d18h15m"),
            R"j({"estimated printing time (normal mode)":"1d18h15m"})j");
  EXPECT_EQ(from("Tohle je PLA, nebo PETG, nevim.gcode"), R"({"filament_type":"PLA"})");
  EXPECT_EQ(from("+ěščřžýáíé / -.:<>.gcode"), "{}");
  // The printer list is joined unescaped: "." matches any character.
  EXPECT_EQ(from("MK3x9_x.gcode"), R"({"printer_model":"MK3x9"})");
  // A time followed by a letter is no time.
  EXPECT_EQ(from("part_5hx.gcode"), "{}");
  EXPECT_EQ(from("part_5h_1d.gcode"), R"j({"estimated printing time (normal mode)":"1d"})j");
}

TEST(GcodeMetadataTest, PythonNumberSyntax) {
  using internal::PyFloat;
  using internal::PyInt;
  EXPECT_EQ(PyFloat(" 1_000.5\r"), 1000.5);
  EXPECT_EQ(PyFloat("1e3"), 1000.0);
  EXPECT_EQ(PyFloat(".5"), 0.5);
  EXPECT_EQ(PyFloat("5."), 5.0);
  EXPECT_EQ(PyFloat("-0.25"), -0.25);
  EXPECT_TRUE(std::isinf(*PyFloat("-Infinity")));
  EXPECT_TRUE(std::isnan(*PyFloat("nan")));
  EXPECT_FALSE(PyFloat("0.2mm"));
  EXPECT_FALSE(PyFloat("1__0"));
  EXPECT_FALSE(PyFloat("_1"));
  EXPECT_FALSE(PyFloat("."));
  EXPECT_FALSE(PyFloat(""));
  EXPECT_FALSE(PyFloat("1,5"));
  EXPECT_EQ(PyInt("+1"), 1);
  EXPECT_EQ(PyInt(" -42 "), -42);
  EXPECT_EQ(PyInt("1_000"), 1000);
  EXPECT_FALSE(PyInt("2.5"));
  EXPECT_FALSE(PyInt("abc"));
  EXPECT_FALSE(PyInt("99999999999999999999"));
}

TEST(GcodeMetadataTest, EstimatedToSeconds) {
  EXPECT_EQ(EstimatedToSeconds("2s"), 2);
  EXPECT_EQ(EstimatedToSeconds("2m 2s"), 122);
  EXPECT_EQ(EstimatedToSeconds("2M"), 120);
  EXPECT_EQ(EstimatedToSeconds("2h 2m 2s"), 7322);
  EXPECT_EQ(EstimatedToSeconds("2d 2h 2m 2s"), 180122);
  EXPECT_EQ(EstimatedToSeconds("1d 4h 33m 20s"), 102800);
  EXPECT_FALSE(EstimatedToSeconds("bad value"));
  EXPECT_FALSE(EstimatedToSeconds("0s"));
}

TEST(GcodeMetadataTest, ThumbnailBlockRules) {
  GcodeMetadata meta;
  internal::FdmMetadataParser p(&meta);
  // Dimensions are whatever precedes the last " <digits>": spaces included.
  EXPECT_TRUE(p.ProcessLine("; thumbnail begin 16 x 16 4\n"));
  EXPECT_TRUE(p.ProcessLine("; QUJD\n"));
  EXPECT_TRUE(p.ProcessLine("; thumbnail end\n"));
  ASSERT_EQ(meta.thumbnails.size(), 1u);
  EXPECT_EQ(meta.thumbnails[0].key, "16 x 16_PNG");
  EXPECT_EQ(meta.thumbnails[0].width, 0);
  // An end without a begin stops reading, as gcode-metadata's TypeError does.
  EXPECT_FALSE(p.ProcessLine("; thumbnail_QOI end\n"));
}

TEST(GcodeMetadataTest, M73SearchStopsAfterItsBudget) {
  GcodeMetadata meta;
  internal::FdmMetadataParser p(&meta);
  std::string filler(1000, 'X');
  filler += "\n";
  for (int i = 0; i < 101; ++i) ASSERT_TRUE(p.ProcessLine("G1 " + filler));
  EXPECT_TRUE(p.ProcessLine("M73 P1 R2\n"));
  EXPECT_EQ(meta.data.Dump(), "{}");
  // Comments are always read.
  EXPECT_TRUE(p.ProcessLine(";Z:0.2\n"));
  EXPECT_EQ(meta.data.Dump(), R"({"layer_info_present":true})");
}

TEST(ZipTest, InflateAndCrcMatchKnownValues) {
  // zlib.compress(b"hello hello hello hello\n", 9)[2:-4] (raw DEFLATE).
  const std::string raw("\xcb\x48\xcd\xc9\xc9\x57\xc8\x40\x27\xb9\x00", 11);
  std::string out;
  ASSERT_TRUE(internal::Inflate(raw, 1000, &out));
  EXPECT_EQ(out, "hello hello hello hello\n");
  EXPECT_EQ(internal::Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(internal::Base64Encode("ab"), "YWI=");
  EXPECT_EQ(internal::Base64Encode("abc"), "YWJj");
  EXPECT_FALSE(internal::Inflate(raw, 5, &out));  // output limit
  EXPECT_FALSE(internal::Inflate(std::string("\xff\xff", 2), 1000, &out));
  // Exactly the limit is enough; truncated data is not.
  EXPECT_TRUE(internal::Inflate(raw, 24, &out));
  EXPECT_FALSE(internal::Inflate(raw, 23, &out));
  EXPECT_FALSE(internal::Inflate(raw.substr(0, 6), 1000, &out));
  EXPECT_FALSE(internal::Inflate("", 1000, &out));
  // An empty entry: zlib.compress(b"")[2:-4].
  ASSERT_TRUE(internal::Inflate(std::string("\x03\x00", 2), 0, &out));
  EXPECT_EQ(out, "");
  // RFC 4648's vectors.
  EXPECT_EQ(internal::Base64Encode(""), "");
  EXPECT_EQ(internal::Base64Encode("f"), "Zg==");
  EXPECT_EQ(internal::Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(internal::Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
  EXPECT_EQ(internal::Crc32(""), 0u);
  EXPECT_EQ(internal::Crc32("6789", internal::Crc32("12345")), 0xCBF43926u);
}

TEST(ZipTest, InflateGrowsPastItsFirstBufferAndKeepsTheLimit) {
  // 1 MiB of zeros in one stored-free DEFLATE stream, made with zlib here.
  std::string zeros(1 << 20, '\0');
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string raw(deflateBound(&z, zeros.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(zeros.data());
  z.avail_in = static_cast<uInt>(zeros.size());
  z.next_out = reinterpret_cast<Bytef*>(raw.data());
  z.avail_out = static_cast<uInt>(raw.size());
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  raw.resize(z.total_out);
  deflateEnd(&z);
  std::string out;
  ASSERT_TRUE(internal::Inflate(raw, zeros.size(), &out));
  EXPECT_EQ(out, zeros);
  EXPECT_FALSE(internal::Inflate(raw, zeros.size() - 1, &out));  // a bomb stops at the limit
  EXPECT_LE(out.size(), zeros.size());
}

}  // namespace
}  // namespace prusaconnect
