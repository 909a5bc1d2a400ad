/* The floor for the offline pipeline benchmark: the plainest libpcap read of a capture file
 * (pcap_open_offline + pcap_next_ex), counting packets and touching one byte of each so the
 * data is really read. Prints "<packets> <seconds>" for bench/packet-pipeline.ts.
 *   cc -O2 -o pcap-count pcap-count.c -lpcap */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pcap_t *p = pcap_open_offline(argv[1], err);
  if (!p) {
    fprintf(stderr, "pcap_open_offline: %s\n", err);
    return 1;
  }
  struct pcap_pkthdr *h;
  const u_char *data;
  unsigned long packets = 0, sum = 0;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    packets++;
    if (h->caplen > 0) sum += data[h->caplen - 1];
  }
  if (rc == PCAP_ERROR) fprintf(stderr, "pcap_next_ex: %s\n", pcap_geterr(p));
  pcap_close(p);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%lu %.6f %lu\n", packets, seconds, sum);
  return rc == PCAP_ERROR ? 1 : 0;
}
