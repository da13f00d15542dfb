// SPDX-License-Identifier: MIT
/*
 * hs-wire: sends crafted Ethernet frames, and sees which IPv4 packets arrive,
 * on one interface. The conformance runner drives the testbed with it.
 *
 *   hs-wire send IFACE DSTMAC FILE
 *       FILE holds records: u32 wait_ms, u32 length (little-endian), then the
 *       frame. Each frame goes out after waiting wait_ms, with DSTMAC as its
 *       destination and IFACE's own address as its source, unchanged otherwise
 *       (bad headers and all).
 *   hs-wire capture IFACE SADDR MS
 *       prints "ready", then for MS milliseconds the IP id (decimal) of every
 *       IPv4 packet from SADDR that arrives on IFACE, one per line.
 *
 * Exit 2: bad arguments; 1: a system call failed (the message says which).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static void die(const char *what)
{
	fprintf(stderr, "hs-wire: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_on(const char *ifname, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0)
		die("socket(AF_PACKET)");
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(ETH_P_ALL);
	sll->sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll->sll_ifindex)
		die(ifname);
	if (bind(fd, (struct sockaddr *)sll, sizeof(*sll)) < 0)
		die("bind");
	return fd;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int do_send(const char *ifname, const char *mac, const char *file)
{
	struct sockaddr_ll sll;
	struct ifreq ifr = { 0 };
	uint8_t dst[6], frame[65536], hdr[8];
	int fd = open_on(ifname, &sll);
	FILE *f = fopen(file, "rb");

	if (!f)
		die(file);
	if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1], &dst[2],
		   &dst[3], &dst[4], &dst[5]) != 6) {
		fprintf(stderr, "hs-wire: not a MAC address: %s\n", mac);
		return 2;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR");
	while (fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr)) {
		uint32_t wait = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		uint32_t len = hdr[4] | hdr[5] << 8 | hdr[6] << 16 | (uint32_t)hdr[7] << 24;

		if (len < 14 || len > sizeof(frame) || fread(frame, 1, len, f) != len) {
			fprintf(stderr, "hs-wire: %s: truncated record\n", file);
			return 2;
		}
		memcpy(frame, dst, 6);
		memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
		if (wait)
			usleep(wait * 1000);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len)
			die("sendto");
	}
	fclose(f);
	return 0;
}

static int do_capture(const char *ifname, const char *saddr, const char *ms)
{
	struct sockaddr_ll sll;
	struct in_addr want;
	uint8_t frame[65536];
	int one = 1, fd = open_on(ifname, &sll);
	uint64_t end = now_ms() + strtoull(ms, NULL, 10);

	if (inet_pton(AF_INET, saddr, &want) != 1) {
		fprintf(stderr, "hs-wire: not an IPv4 address: %s\n", saddr);
		return 2;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		die("PACKET_IGNORE_OUTGOING");
	printf("ready\n");
	fflush(stdout);
	for (uint64_t now = now_ms(); now < end; now = now_ms()) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = recv(fd, frame, sizeof(frame), 0);
		if (n < 34 || frame[12] != 0x08 || frame[13] != 0x00 || (frame[14] >> 4) != 4)
			continue;
		if (memcmp(frame + 26, &want, 4) == 0) {
			printf("%u\n", (unsigned int)(frame[18] << 8 | frame[19]));
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "capture") == 0)
		return do_capture(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: hs-wire send IFACE DSTMAC FILE | hs-wire capture IFACE SADDR MS\n");
	return 2;
}
