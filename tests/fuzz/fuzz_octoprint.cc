// Copyright 2026 The libprusaconnect Authors.
//
// libFuzzer target: the OctoPrint adapter's pure input handling
// (examples/octoprint_adapter): the push/REST JSON mapping (ApplyCurrent,
// ApplyRest, then ClassifyOcto / MapState / BuildTelemetry) and
// PushClient::ParseUrl. The first byte picks the part. (WebSocket framing is
// libwebsockets' since the push socket moved onto hostio::WsLoop.)
// Invariant: a URL ParseUrl accepts has a port in 1..65535.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "prusaconnect/json.h"
#include "push_client.h"
#include "state_map.h"

namespace {

namespace oa = octoprint_adapter;

void Map(const oa::Snapshot& s) {
  oa::OctoState st = oa::ClassifyOcto(s);
  if (oa::OctoStateName(st) == nullptr) std::abort();
  (void)oa::MapState(st);
  (void)oa::BuildTelemetry(s, oa::HasJob(st));
  (void)oa::BuildTelemetry(s, !oa::HasJob(st));
  if (s.print_time) (void)oa::FormatDuration(*s.print_time);
  if (s.print_time_left) (void)oa::FormatDuration(*s.print_time_left);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pc = prusaconnect;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:    // was WebSocket frames: now libwebsockets' job
    case 1: {  // a push socket message: {"current": {...}} or the payload itself
      pc::StatusOr<pc::Json> j = pc::Json::Parse(text);
      if (!j.ok()) break;
      oa::Snapshot s;
      const pc::Json* current = j->is_object() ? j->find("current") : nullptr;
      oa::ApplyCurrent(current != nullptr ? *current : *j, &s);
      Map(s);
      oa::ApplyCurrent(*j, &s);  // a second message on top of the first
      Map(s);
      break;
    }
    case 2: {  // [printer, job] as GET /api/printer and GET /api/job answer
      pc::StatusOr<pc::Json> j = pc::Json::Parse(text);
      if (!j.ok()) break;
      oa::Snapshot s;
      if (j->is_array() && j->size() == 2) {
        oa::ApplyRest((*j)[0], (*j)[1], &s);
      } else {
        oa::ApplyRest(*j, *j, &s);
      }
      Map(s);
      break;
    }
    default: {
      std::string host;
      std::string base;
      int port = 0;
      if (oa::PushClient::ParseUrl(text, &host, &port, &base) && (port < 1 || port > 65535)) {
        std::abort();
      }
      oa::FormatDuration(static_cast<int64_t>(size) * 1000003 - 5000000);
      break;
    }
  }
  return 0;
}
