// Copyright 2026 The libprusaconnect Authors.
//
// Tests for util/sha256.h against FIPS 180-2 / NIST test vectors.

#include "util/sha256.h"

#include <string>

#include <gtest/gtest.h>

namespace prusaconnect::internal {
namespace {

TEST(Sha256HexTest, EmptyInput) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256HexTest, Abc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256HexTest, TwoBlockMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256HexTest, OneMillionAs) {
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256HexTest, OneMebibyteOfAs) {
  EXPECT_EQ(Sha256Hex(std::string(1 << 20, 'a')),
            "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360");
}

TEST(Sha256HexTest, EmbeddedNulBytesAreHashed) {
  EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("a"));
}

TEST(Sha256HexTest, SerialNumberFingerprintIsLowerCaseHex) {
  const std::string hex = Sha256Hex("SN001002XP003");
  EXPECT_EQ(hex, "ee411fedc3a43f5c5e68ff68044e07197b5dbba224dfe74ae52a9313c9bebf17");
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace prusaconnect::internal
