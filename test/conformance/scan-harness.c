// SPDX-License-Identifier: MIT
/*
 * scan-harness.c: runs each template's own payload-scan code on random
 * payloads and compares every answer with a plain reference, memmem() over
 * the window. A false positive counts as a failure exactly like a miss.
 *
 * Built by test/integration/scan-differential.test.ts as four objects from
 * this one file (the templates' headers clash, so each gets its own unit):
 *   -DHS_EBPF_SOURCE='"ebpf_model.c"'   (compiled natively: its helpers are
 *                                        replaced by the functions below)
 *   -DHS_USER_SOURCE='"user_space_model.c"' (linked with packet_queue.c)
 *   -DHS_KERNEL_SCAN='"file"'           (hs_contains() and
 *                                        hs_payload_matches() cut out of
 *                                        kernel_space.c by the test, built
 *                                        with the shims below)
 * Paths are string literals: a bare path's words (main, linux) are macros here.
 *   -DHS_MAIN                           (the payloads and the reference)
 *
 *   scan-harness PAYLOADS SEED
 * prints one JSON line: {"payloads": N, "matches": M, "ebpf": {"false_positives":
 * .., "misses": ..}, "user": {...}, "kernel": {...}, "first_failure": "..."}
 * and exits 1 when any placement disagreed with the reference.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ebpf_matches(const uint8_t *payload, uint32_t len, const uint8_t *pat,
		  uint32_t plen, uint32_t window);
bool user_matches(const uint8_t *frame, uint32_t len, const uint8_t *pat,
		  uint32_t plen, uint32_t window);
bool kernel_matches(const uint8_t *payload, uint32_t len, const uint8_t *pat,
		    uint32_t plen, uint32_t window);

#ifdef HS_EBPF_SOURCE
/* ---- eBPF: the program's payload_matches() and hs_scan(), natively --- */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static const uint8_t *h_payload;	/* the packet's payload, as loaded */
static void *h_scratch;			/* the per-CPU scratch buffer */

static long h_load_bytes(const void *skb, uint32_t off, void *to, uint32_t len)
{
	(void)skb;
	memcpy(to, h_payload + off, len);
	return 0;
}

static void *h_lookup(const void *map, const void *key)
{
	(void)map;
	(void)key;
	return h_scratch;
}

#define bpf_skb_load_bytes(skb, off, to, len) h_load_bytes(skb, off, to, len)
#define bpf_map_lookup_elem(map, key) h_lookup(map, key)
#include HS_EBPF_SOURCE

static struct hs_scratch ebpf_scratch;	/* never cleared, like the map */

bool ebpf_matches(const uint8_t *payload, uint32_t len, const uint8_t *pat,
			 uint32_t plen, uint32_t window)
{
	struct hs_config cfg = { .pattern_len = plen, .window = window };

	memcpy(cfg.pattern, pat, plen);
	h_payload = payload;
	h_scratch = &ebpf_scratch;
	return payload_matches(NULL, 0, len, &cfg);
}
#endif

#ifdef HS_USER_SOURCE
/* ---- user space: hs_payload_matches() of user_space_model.c --------- */
#define main hs_user_space_main
#include HS_USER_SOURCE
#undef main

bool user_matches(const uint8_t *frame, uint32_t len, const uint8_t *pat,
			 uint32_t plen, uint32_t window)
{
	/* As the kernel hands it over: IP and UDP headers (28 bytes) and
	 * at most window + HS_MAX_HEADERS bytes from the IP header on. */
	struct hs_packet p = { .l3 = frame, .payload = frame + 28, .payload_len = len };
	uint32_t copy = window + HS_MAX_HEADERS;

	p.l3_len = 28 + len < copy ? 28 + len : copy;
	memcpy(g_cfg.pattern, pat, plen);
	g_cfg.pattern_len = plen;
	g_cfg.window = window;
	return hs_payload_matches(&p);
}
#endif

#ifdef HS_KERNEL_SCAN
/* ---- kernel: hs_contains() and hs_payload_matches() of kernel_space.c - */
typedef uint8_t u8;
#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define this_cpu_ptr(p) NULL
#define skb_header_pointer(skb, off, len, buf) ((const u8 *)(skb) + (off))
struct sk_buff;
static unsigned int window;
static u8 hs_pattern[64];
static unsigned int hs_pattern_len;
#include HS_KERNEL_SCAN

bool kernel_matches(const uint8_t *payload, uint32_t len, const uint8_t *pat,
			   uint32_t plen, uint32_t win)
{
	memcpy(hs_pattern, pat, plen);
	hs_pattern_len = plen;
	window = win;
	return hs_payload_matches((const struct sk_buff *)payload, 0, len);
}
#endif

#ifdef HS_MAIN
/* ---- the reference and the random payloads ------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool reference(const uint8_t *payload, uint32_t len, const uint8_t *pat,
		      uint32_t plen, uint32_t window)
{
	uint32_t n = len < window ? len : window;

	return plen > 0 && memmem(payload, n, pat, plen) != NULL;
}

struct tally { unsigned long false_positives, misses; };

static char first_failure[512];

static void check(struct tally *t, const char *who, bool got, bool want,
		  uint32_t len, uint32_t plen, uint32_t window, unsigned long i)
{
	if (got == want)
		return;
	if (got)
		t->false_positives++;
	else
		t->misses++;
	if (!first_failure[0])
		snprintf(first_failure, sizeof(first_failure),
			 "%s: payload %lu (%u bytes, pattern %u bytes, window %u): %s",
			 who, i, len, plen, window, got ? "false positive" : "miss");
}

int main(int argc, char **argv)
{
	static uint8_t frame[28 + 1500], pat[64];
	uint8_t *payload = frame + 28;
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long matches = 0;
	struct tally te = { 0 }, tu = { 0 }, tk = { 0 };
	static const uint32_t windows[] = { 256, 256, 256, 1, 7, 8, 64, 255, 257, 1000, 1024 };

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 1;
	for (unsigned long i = 0; i < n; i++) {
		/* Few distinct bytes, so near misses and overlaps are common;
		 * the pattern's first byte is always among them. */
		uint32_t alphabet = 2 + rnd() % 4;
		uint8_t base = (uint8_t)rnd();
		uint32_t window = windows[rnd() % (sizeof(windows) / sizeof(windows[0]))];
		uint32_t len = rnd() % 4 ? rnd() % 300 : rnd() % 1501;
		uint32_t plen = 1 + (rnd() % 8 ? rnd() % 8 : rnd() % 64);

		for (uint32_t j = 0; j < plen; j++)
			pat[j] = (uint8_t)(base + rnd() % alphabet);
		for (uint32_t j = 0; j < len; j++)
			payload[j] = (uint8_t)(base + (rnd() % 8 ? rnd() % alphabet : rnd()));
		/* Half the time, plant the pattern, often near the window's end. */
		if (rnd() % 2 && len >= plen) {
			uint32_t at = rnd() % 2 ? rnd() % (len - plen + 1)
				     : (window > plen ? window - plen : 0) + rnd() % 3;

			if (at + plen <= len)
				memcpy(payload + at, pat, plen);
		}
		bool want = reference(payload, len, pat, plen, window);

		matches += want;
		check(&te, "ebpf", ebpf_matches(payload, len, pat, plen, window), want, len, plen, window, i);
		check(&tu, "user", user_matches(frame, len, pat, plen, window), want, len, plen, window, i);
		check(&tk, "kernel", kernel_matches(payload, len, pat, plen, window), want, len, plen, window, i);
	}
	printf("{\"payloads\": %lu, \"matches\": %lu, "
	       "\"ebpf\": {\"false_positives\": %lu, \"misses\": %lu}, "
	       "\"user\": {\"false_positives\": %lu, \"misses\": %lu}, "
	       "\"kernel\": {\"false_positives\": %lu, \"misses\": %lu}, "
	       "\"first_failure\": \"%s\"}\n",
	       n, matches, te.false_positives, te.misses, tu.false_positives,
	       tu.misses, tk.false_positives, tk.misses, first_failure);
	return first_failure[0] ? 1 : 0;
}
#endif
