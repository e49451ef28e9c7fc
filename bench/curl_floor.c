/* Copyright 2026 The libprusaconnect Authors.
 *
 * curl_floor: the memory floor of any libcurl client on this machine.
 *
 * Initialises Debian's libcurl, makes one GET to the URL given on the command
 * line (the body is discarded) and prints the process's VmRSS and VmHWM from
 * /proc/self/status, as one JSON line followed by a human line. It is the
 * baseline the RSS targets of docs/PERFORMANCE.md are compared with.
 *
 *   curl_floor http://127.0.0.1:PORT/api/stats
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t Discard(char* data, size_t size, size_t n, void* user) {
  (void)data;
  (void)user;
  return size * n;
}

/* The value in kB of a "Name:   1234 kB" line of /proc/self/status, or -1. */
static long StatusKb(const char* name) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  size_t len = strlen(name);
  long kb = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      kb = strtol(line + len + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s URL\n", argv[0]);
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "curl_floor: curl_global_init failed\n");
    return 1;
  }
  CURL* curl = curl_easy_init();
  if (curl == NULL) {
    fprintf(stderr, "curl_floor: curl_easy_init failed\n");
    return 1;
  }
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  /* Measured while the handle and its connection are still alive, as in a
   * client that keeps its connection open. */
  long rss = StatusKb("VmRSS");
  long hwm = StatusKb("VmHWM");
  long anon = StatusKb("RssAnon");
  long file = StatusKb("RssFile");
  printf(
      "{\"tool\":\"curl_floor\",\"curl_version\":\"%s\",\"result\":\"%s\",\"status\":%ld,"
      "\"vmrss_kb\":%ld,\"vmhwm_kb\":%ld}\n",
      curl_version_info(CURLVERSION_NOW)->version, curl_easy_strerror(rc), status, rss, hwm);
  printf(
      "curl_floor: libcurl %s, GET -> %ld (%s): VmRSS %ld kB (%.1f MB; anonymous %ld kB, "
      "file-backed %ld kB), VmHWM %ld kB\n",
      curl_version_info(CURLVERSION_NOW)->version, status, curl_easy_strerror(rc), rss,
      rss / 1024.0, anon, file, hwm);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return rc == CURLE_OK ? 0 : 1;
}
