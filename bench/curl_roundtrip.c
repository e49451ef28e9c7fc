/* Copyright 2026 The libprusaconnect Authors.
 *
 * curl_roundtrip: the CPU floor of a telemetry round-trip through libcurl.
 *
 * A bare C client that does only what libcurl itself needs for one of the
 * library's telemetry requests: one easy handle, configured once and reused
 * on one kept-alive connection; POST of a fixed telemetry body (the 17 fields
 * of telemetry_load plus the state) with the protocol's headers to
 * /p/telemetry, back to back, through curl_easy_perform(). No JSON, no
 * queue, no threads, no event loop of our own. Its CPU per round-trip is
 * what any libcurl-based client pays on this machine before doing anything
 * of its own; docs/PERFORMANCE.md compares telemetry_load --mode flood
 * with it.
 *
 *   curl_roundtrip --server URL --fingerprint FP --token T [--seconds S]
 *                  [--warmup S] [--rate HZ]
 *
 * Without --rate the requests go back to back (telemetry_load --mode flood);
 * with it they start on a fixed schedule of HZ per second, each one isolated
 * (the cost of one printer sending now and then, caches cold).
 *
 * The printer must exist in the emulator (POST /api/printers with that
 * fingerprint and token). Prints one JSON line, then a human line.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char kBody[] =
    "{\"state\":\"IDLE\",\"temp_nozzle\":214.8,\"temp_bed\":59.9,\"target_nozzle\":215.0,"
    "\"target_bed\":60.0,\"axis_x\":120.25,\"axis_y\":98.5,\"axis_z\":2.4,"
    "\"fan_extruder\":4500,\"fan_hotend\":3200,\"fan_print\":5100,\"speed\":100,"
    "\"flow\":95,\"progress\":37,\"time_printing\":1834,\"time_remaining\":3120,"
    "\"filament\":1523.7,\"material\":\"PLA\"}";

static size_t Discard(char* data, size_t size, size_t n, void* user) {
  (void)data;
  (void)user;
  return size * n;
}

static double MonoSeconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void SleepUntil(double when) {
  struct timespec ts;
  ts.tv_sec = (time_t)when;
  ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

static void CpuSeconds(double* user, double* sys) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int Usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s --server URL --fingerprint FP --token T [--seconds S] [--warmup S]"
          " [--rate HZ]\n",
          argv0);
  return 2;
}

int main(int argc, char** argv) {
  const char* server = NULL;
  const char* fingerprint = NULL;
  const char* token = NULL;
  double seconds = 10.0;
  double warmup = 2.0;
  double rate = 0.0;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) return Usage(argv[0]);
    if (strcmp(argv[i], "--server") == 0) {
      server = argv[++i];
    } else if (strcmp(argv[i], "--fingerprint") == 0) {
      fingerprint = argv[++i];
    } else if (strcmp(argv[i], "--token") == 0) {
      token = argv[++i];
    } else if (strcmp(argv[i], "--seconds") == 0) {
      seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--warmup") == 0) {
      warmup = atof(argv[++i]);
    } else if (strcmp(argv[i], "--rate") == 0) {
      rate = atof(argv[++i]);
    } else {
      return Usage(argv[0]);
    }
  }
  if (server == NULL || fingerprint == NULL || token == NULL || seconds <= 0.0 || rate < 0.0) {
    return Usage(argv[0]);
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "curl_roundtrip: curl_global_init failed\n");
    return 1;
  }
  CURL* curl = curl_easy_init();
  if (curl == NULL) {
    fprintf(stderr, "curl_roundtrip: curl_easy_init failed\n");
    return 1;
  }
  char url[1024];
  char fp_header[256];
  char token_header[256];
  snprintf(url, sizeof(url), "%s/p/telemetry", server);
  snprintf(fp_header, sizeof(fp_header), "Fingerprint: %s", fingerprint);
  snprintf(token_header, sizeof(token_header), "Token: %s", token);
  struct curl_slist* headers = NULL;
  headers = curl_slist_append(headers, fp_header);
  headers = curl_slist_append(headers, token_header);
  headers = curl_slist_append(headers, "Timestamp: 1764000000.1");
  headers = curl_slist_append(headers, "User-Agent: libprusaconnect/0.1.0");
  headers = curl_slist_append(headers, "User-Agent-Printer: I3MK3S");
  headers = curl_slist_append(headers, "User-Agent-Version: 3.14.1");
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  if (headers == NULL) {
    fprintf(stderr, "curl_roundtrip: out of memory\n");
    return 1;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, kBody);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(sizeof(kBody) - 1));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* as the library does without proxy variables */

  long failed = 0;
  long last_status = 0;
  double end_warmup = MonoSeconds() + warmup;
  while (MonoSeconds() < end_warmup) {
    if (curl_easy_perform(curl) != CURLE_OK) ++failed;
  }
  double user0, sys0, user1, sys1;
  CpuSeconds(&user0, &sys0);
  double t0 = MonoSeconds();
  double end = t0 + seconds;
  long roundtrips = 0;
  double next = t0;
  while (MonoSeconds() < end) {
    if (rate > 0.0) {
      SleepUntil(next);
      next += 1.0 / rate;
    }
    CURLcode rc = curl_easy_perform(curl);
    ++roundtrips;
    if (rc != CURLE_OK) {
      ++failed;
      continue;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &last_status);
    if (last_status < 200 || last_status >= 300) ++failed;
  }
  double window = MonoSeconds() - t0;
  CpuSeconds(&user1, &sys1);
  double cpu = (user1 - user0) + (sys1 - sys0);
  double per_ms = roundtrips > 0 ? cpu * 1000.0 / (double)roundtrips : 0.0;
  printf(
      "{\"tool\":\"curl_roundtrip\",\"curl_version\":\"%s\",\"rate_hz\":%.3f,\"seconds\":%.3f,"
      "\"roundtrips\":%ld,\"failed\":%ld,\"last_status\":%ld,\"cpu_user_s\":%.3f,"
      "\"cpu_sys_s\":%.3f,\"cpu_s\":%.3f,\"cpu_per_roundtrip_ms\":%.5f}\n",
      curl_version_info(CURLVERSION_NOW)->version, rate, window, roundtrips, failed, last_status,
      user1 - user0, sys1 - sys0, cpu, per_ms);
  printf(
      "curl_roundtrip: libcurl %s, %ld round-trips in %.1f s (%ld failed), CPU %.3f s "
      "(user %.3f, sys %.3f) = %.4f ms per round-trip\n",
      curl_version_info(CURLVERSION_NOW)->version, roundtrips, window, failed, cpu, user1 - user0,
      sys1 - sys0, per_ms);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return failed == 0 && roundtrips > 0 ? 0 : 1;
}
