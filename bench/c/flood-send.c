/* A minimal tcpreplay for bench/daemon-flood.ts: sends every frame of a pcap file out of one
 * network device (libpcap pcap_inject on an AF_PACKET socket), paced at PPS packets per second
 * (0 = as fast as the device takes them). Pacing sleeps every 100 frames until the schedule
 * catches up, so at 100k packets/s the frames leave in 1 ms bursts of 100, as masscan's own
 * batches do, without spinning a shared core.
 * Prints "<sent> <failed> <seconds>".
 *   cc -O2 -o flood-send flood-send.c -lpcap */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s DEVICE FILE.pcap PPS\n", argv[0]);
    return 2;
  }
  const char *device = argv[1];
  double pps = atof(argv[3]);
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *in = pcap_open_offline(argv[2], err);
  if (!in) {
    fprintf(stderr, "pcap_open_offline: %s\n", err);
    return 1;
  }
  pcap_t *out = pcap_create(device, err);
  if (!out) {
    fprintf(stderr, "pcap_create %s: %s\n", device, err);
    return 1;
  }
  if (pcap_activate(out) < 0) {
    fprintf(stderr, "pcap_activate %s: %s\n", device, pcap_geterr(out));
    return 1;
  }
  struct pcap_pkthdr *h;
  const u_char *data;
  unsigned long sent = 0, failed = 0;
  int rc;
  double start = now_seconds();
  while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
    /* A full device queue (ENOBUFS) is retried briefly; anything else counts as failed. */
    int tries = 0;
    while (pcap_inject(out, data, h->caplen) < 0) {
      if (++tries > 1000) {
        failed++;
        break;
      }
      struct timespec pause = {0, 10000};
      nanosleep(&pause, NULL);
    }
    if (tries <= 1000) sent++;
    if (pps > 0 && (sent + failed) % 100 == 0) {
      double due = start + (double)(sent + failed) / pps;
      double ahead = due - now_seconds();
      if (ahead > 0) {
        struct timespec pause = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
        while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {
        }
      }
    }
  }
  if (rc == PCAP_ERROR) fprintf(stderr, "pcap_next_ex: %s\n", pcap_geterr(in));
  double seconds = now_seconds() - start;
  pcap_close(in);
  pcap_close(out);
  printf("%lu %lu %.6f\n", sent, failed, seconds);
  return rc == PCAP_ERROR ? 1 : 0;
}
