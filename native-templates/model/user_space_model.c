// SPDX-License-Identifier: MIT
/*
 * user_space_model.c - HyperShield inline user-space security model (NFQUEUE).
 *
 * The model host sends forwarded packets to this program with
 *
 *   iptables -I FORWARD -j NFQUEUE --queue-balance B:B+N-1 --queue-bypass
 *   (for a single queue: --queue-num B --queue-bypass)
 *
 * and this program answers every packet with ACCEPT or DROP. One thread per
 * queue, each with its own netlink socket and its own flow table, so the fast
 * path takes no locks. --queue-balance hashes on the address pair, so both
 * directions of a connection always land in the same queue (same thread).
 *
 * Command line (the HyperShield deployer relies on it; keep it stable):
 *
 *   user_space_model --queue-num BASE --queues N --stats FILE
 *                    [--pattern HEX] [--action drop|accept]
 *                    [--flow-timeout SECONDS] [--window BYTES]
 *                    [--max-flows N] [--rt-priority N]
 *
 * What the policy sees and how the flow table behaves is the same in all
 * three templates (README.md, "One policy, three placements").
 *
 * Protocol with the deployer:
 *   - prints exactly one line "ready" on stdout once all queues are bound;
 *   - writes FILE (JSON, atomically: temporary file + rename) once a second,
 *     at once on SIGHUP (the deployer asks for fresh counters that way),
 *     and once more on exit;
 *   - SIGTERM / SIGINT: unbind the queues, write the final stats, exit 0;
 *   - bad arguments: message on stderr naming the argument, exit 2;
 *   - runtime failure (cannot bind a queue, ...): message on stderr, exit 1.
 *
 * YOUR LOGIC GOES INTO hs_policy_decide() below (search for "POLICY").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "packet_queue.h"

#define PROG "user_space_model"

/* Tunables (compile-time; the command line is a fixed contract). */
#ifndef HS_QUEUE_MAXLEN
#define HS_QUEUE_MAXLEN 16384u	/* packets waiting in the kernel per queue */
#endif
#ifndef HS_RCVBUF_BYTES
#define HS_RCVBUF_BYTES (8 * 1024 * 1024)
#endif
#define HS_MAX_QUEUES 64
#define HS_MAX_PATTERN 64
#define HS_MAX_WINDOW 1024	/* largest inspection window, payload bytes */
#define HS_MAX_FLOWS (1u << 24)
/* Copied per packet beyond the window: the largest IPv4 and TCP headers,
 * so the whole window of payload is always visible. */
#define HS_MAX_HEADERS (60 + 60)
#define HS_GC_INTERVAL_MS 1000
#define HS_FULL_GC_MS 100	/* a full table is swept at most this often */
/* How long an idle worker may take to notice a stop: an undeploy waits for it. */
#define HS_RECV_TIMEOUT_MS 50
#define HS_SEND_RETRIES 100	/* 1 ms apart, then the burst is given up */

/* ------------------------------------------------------------------------ */
/* Configuration (read-only once the threads run)                            */
/* ------------------------------------------------------------------------ */

struct hs_config {
	unsigned int queue_num;
	unsigned int queues;
	const char *stats_path;
	uint8_t pattern[HS_MAX_PATTERN];
	size_t pattern_len;		/* 0: no pattern, nothing matches */
	int action;			/* HS_VERDICT_DROP or HS_VERDICT_ACCEPT */
	unsigned int flow_timeout_s;
	unsigned int window;		/* payload bytes inspected per packet */
	unsigned int max_flows;		/* per queue thread */
	int rt_priority;		/* SCHED_FIFO priority of the queue threads; 0: normal */
};

static struct hs_config g_cfg = {
	.queue_num = 0,
	.queues = 1,
	.action = HS_VERDICT_DROP,
	.flow_timeout_s = 30,
	.window = 256,
	.max_flows = 65536,
	.rt_priority = 1,
};

static volatile int g_stop;	/* set by the main thread, read by workers */
static uint64_t g_hash_seed;	/* random: crafted tuples cannot aim at a bucket */

/* ------------------------------------------------------------------------ */
/* Parsed packet and flow table                                              */
/* ------------------------------------------------------------------------ */

/* What the policy sees of one IPv4 packet. Pointers point into the copied
 * bytes, which always hold the IP and TCP/UDP headers and the first
 * --window bytes of payload (or all of it). */
struct hs_packet {
	const uint8_t *l3;		/* IP header */
	uint32_t l3_len;		/* copied bytes from l3 on */
	uint32_t ip_len;		/* IP total length (GSO: of the aggregate) */
	uint8_t proto;			/* IPPROTO_TCP, IPPROTO_UDP, ... */
	uint8_t tcp_flags;		/* TCP flags byte, 0 otherwise */
	bool ports;			/* sport/dport valid; false for non-first
					 * fragments and TCP/UDP headers that do
					 * not fit: no flow, no payload */
	uint32_t saddr, daddr;		/* network order */
	uint16_t sport, dport;		/* host order, 0 if none */
	const uint8_t *payload;		/* TCP/UDP payload, NULL for other protocols */
	uint32_t payload_len;		/* its length in the packet */
	uint32_t indev, outdev;		/* ifindexes (0 if unknown) */
	uint8_t hook;			/* netfilter hook (NF_INET_FORWARD ...) */
};

/* Direction-independent 5-tuple: the (address, port) pair that compares
 * lower is stored first, so both directions of a connection share a flow. */
struct hs_flow_key {
	uint32_t addr_lo;		/* network order */
	uint32_t addr_hi;
	uint16_t port_lo;		/* host order */
	uint16_t port_hi;
	uint8_t proto;
	uint8_t pad[3];			/* keeps the key free of padding */
};

enum hs_flow_state {
	HS_FLOW_NEW = 0,
	HS_FLOW_MATCHED,		/* pattern seen, action accept */
	HS_FLOW_BLOCKED,		/* pattern seen, action drop */
};

#define HS_NIL UINT32_MAX

struct hs_flow {
	struct hs_flow_key key;
	uint32_t next;			/* bucket chain or free list */
	uint32_t hash;
	uint64_t last_seen_ms;
	/* Everything from here on is reset when an idle flow restarts. */
	uint8_t state;			/* enum hs_flow_state */
	uint8_t user_u8[7];		/* free for your policy */
	uint64_t user_u64[2];		/* free for your policy */
};

struct hs_flow_table {
	struct hs_flow *pool;		/* max_flows entries */
	uint32_t *buckets;		/* nbuckets heads */
	uint32_t nbuckets;		/* power of two >= max_flows */
	uint32_t free_head;
	uint32_t active;
	uint64_t last_gc_ms;
	uint64_t last_full_gc_ms;
};

/* ------------------------------------------------------------------------ */
/* Counters                                                                  */
/* ------------------------------------------------------------------------ */

/* Keep names in sync with the stats JSON, the kernel module's
 * /proc/net/hypershield and the eBPF counter map. */
#define HS_COUNTERS(X)                                                       \
	X(packets)          /* packets seen by the policy */                 \
	X(bytes)            /* their full length (GSO aggregates counted whole) */ \
	X(accepted)                                                          \
	X(dropped)                                                           \
	X(pattern_matches)                                                   \
	X(flows_active)     /* gauge */                                      \
	X(flows_created)                                                     \
	X(flows_expired)                                                     \
	X(flows_table_full) /* packets whose new flow found no room */       \
	X(batches)          /* receive bursts (recvmmsg calls with data) */  \
	X(verdict_msgs)                                                      \
	X(verdict_sends)                                                     \
	X(enobufs)                                                           \
	X(recv_errors)                                                       \
	X(send_errors)                                                       \
	X(nl_errors)                                                         \
	X(bypassed)         /* passed without inspection (fail-open) */     \
	X(other)            /* not IPv4 as far as we can tell: passed */

struct hs_counters {
#define X(name) uint64_t name;
	HS_COUNTERS(X)
#undef X
};

struct hs_worker {
	unsigned int index;
	pthread_t thread;
	bool started;
	struct hs_pq q;
	struct hs_flow_table ft;
	int realtime;			/* running SCHED_FIFO (set once, atomically) */
	struct hs_counters ctr;		/* private to the worker thread */
	/* Published copy for the stats writer (relaxed atomics). */
	struct hs_counters pub __attribute__((aligned(64)));
} __attribute__((aligned(64)));

static struct hs_worker *g_workers;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint32_t flow_hash(const struct hs_flow_key *k)
{
	uint64_t w[2];
	uint64_t h = g_hash_seed;

	_Static_assert(sizeof(*k) == sizeof(w), "flow key is 16 bytes");
	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 2; i++)
		h = mix64(h ^ w[i]);
	return (uint32_t)h;
}

/* Idle longer than the timeout? Signed, like the other placements (whose
 * CPUs can see times out of order). */
static bool flow_idle(const struct hs_flow *f, uint64_t now)
{
	return (int64_t)(now - f->last_seen_ms) >
	       (int64_t)g_cfg.flow_timeout_s * 1000;
}

/* ------------------------------------------------------------------------ */
/* Flow table (one per worker thread: no locking)                            */
/* ------------------------------------------------------------------------ */

static int ft_init(struct hs_flow_table *ft)
{
	memset(ft, 0, sizeof(*ft));
	ft->nbuckets = 1;
	while (ft->nbuckets < g_cfg.max_flows)
		ft->nbuckets <<= 1;
	ft->pool = calloc(g_cfg.max_flows, sizeof(*ft->pool));
	ft->buckets = malloc(ft->nbuckets * sizeof(*ft->buckets));
	if (!ft->pool || !ft->buckets)
		return -1;
	for (uint32_t i = 0; i < ft->nbuckets; i++)
		ft->buckets[i] = HS_NIL;
	for (uint32_t i = 0; i < g_cfg.max_flows; i++)
		ft->pool[i].next = i + 1 < g_cfg.max_flows ? i + 1 : HS_NIL;
	ft->free_head = 0;
	return 0;
}

static void ft_free(struct hs_flow_table *ft)
{
	free(ft->pool);
	free(ft->buckets);
	ft->pool = NULL;
	ft->buckets = NULL;
}

/* Remove every flow idle for longer than the timeout. */
static void ft_gc(struct hs_worker *w, uint64_t now)
{
	struct hs_flow_table *ft = &w->ft;

	for (uint32_t b = 0; b < ft->nbuckets; b++) {
		uint32_t *link = &ft->buckets[b];

		while (*link != HS_NIL) {
			struct hs_flow *f = &ft->pool[*link];

			if (flow_idle(f, now)) {
				uint32_t idx = *link;

				*link = f->next;
				f->next = ft->free_head;
				ft->free_head = idx;
				ft->active--;
				w->ctr.flows_expired++;
			} else {
				link = &f->next;
			}
		}
	}
	ft->last_gc_ms = now;
	w->ctr.flows_active = ft->active;
}

/* Find the flow of key, creating it if needed, and mark it seen now.
 * Returns NULL when the table is full even after removing idle flows: new
 * flows are refused and no flow is ever evicted (a blocked flow stays
 * blocked). The packet is still decided, only without flow state; counted
 * as flows_table_full. */
static struct hs_flow *ft_lookup(struct hs_worker *w,
				 const struct hs_flow_key *key, uint64_t now)
{
	struct hs_flow_table *ft = &w->ft;
	uint32_t h = flow_hash(key);
	uint32_t *head = &ft->buckets[h & (ft->nbuckets - 1)];
	uint32_t *link = head;

	while (*link != HS_NIL) {
		struct hs_flow *f = &ft->pool[*link];

		if (f->hash == h && memcmp(&f->key, key, sizeof(*key)) == 0) {
			if (flow_idle(f, now)) {
				/* Expired but not yet collected: start over. */
				w->ctr.flows_expired++;
				w->ctr.flows_created++;
				memset(&f->state, 0,
				       sizeof(*f) - offsetof(struct hs_flow, state));
			}
			f->last_seen_ms = now;
			return f;
		}
		link = &f->next;
	}
	if (ft->free_head == HS_NIL && now - ft->last_full_gc_ms >= HS_FULL_GC_MS) {
		/* Full: collect now, at most ten times a second. */
		ft->last_full_gc_ms = now;
		ft_gc(w, now);
	}
	if (ft->free_head == HS_NIL) {
		w->ctr.flows_table_full++;
		return NULL;
	}
	uint32_t idx = ft->free_head;
	struct hs_flow *f = &ft->pool[idx];

	ft->free_head = f->next;
	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->hash = h;
	f->last_seen_ms = now;
	f->next = *head;
	*head = idx;
	ft->active++;
	w->ctr.flows_created++;
	w->ctr.flows_active = ft->active;
	return f;
}

/* ------------------------------------------------------------------------ */
/* Packet parsing                                                            */
/* ------------------------------------------------------------------------ */

/* Fill p from the copied bytes (sample: 45 00 00 54 ... = IPv4, IHL 5,
 * total length 84). Returns false if they are not an IPv4 packet with a
 * valid header; the IP stack has checked that before the FORWARD hook, so
 * that means a truncated copy. Every field is read only after the length
 * check that covers it. */
static bool parse_packet(const struct hs_pq_packet *qp, struct hs_packet *p)
{
	const uint8_t *d = qp->data;
	uint32_t len = qp->data_len;

	memset(p, 0, sizeof(*p));
	p->l3 = d;
	p->l3_len = len;
	p->indev = qp->indev;
	p->outdev = qp->outdev;
	p->hook = qp->hook;
	if (!d || len < 20 || (d[0] >> 4) != 4)
		return false;

	uint32_t ihl = (uint32_t)(d[0] & 0x0f) * 4;
	uint32_t tot = ((uint32_t)d[2] << 8) | d[3];
	uint16_t frag = (uint16_t)(((uint32_t)d[6] << 8) | d[7]);

	/* tot_len is 0 for BIG TCP aggregates over 64 KiB. */
	p->ip_len = tot ? tot : qp->orig_len;
	if (ihl < 20 || ihl > len || p->ip_len < ihl)
		return false;
	p->proto = d[9];
	memcpy(&p->saddr, d + 12, 4);
	memcpy(&p->daddr, d + 16, 4);
	if (frag & 0x1fff)
		return true;	/* non-first fragment: no ports */

	const uint8_t *l4 = d + ihl;
	uint32_t l4len = p->ip_len - ihl;	/* in the packet */
	uint32_t l4copied = len - ihl;
	uint32_t hdr;

	switch (p->proto) {
	case IPPROTO_TCP:
		if (l4len < 20 || l4copied < 20)
			return true;
		hdr = (uint32_t)(l4[12] >> 4) * 4;
		if (hdr < 20 || hdr > l4len || hdr > l4copied)
			return true;
		p->tcp_flags = l4[13];
		break;
	case IPPROTO_UDP:
		hdr = 8;
		if (l4len < hdr || l4copied < hdr)
			return true;
		break;
	default:
		p->ports = true;	/* tracked with ports 0, no payload */
		return true;
	}
	p->ports = true;
	p->sport = (uint16_t)(((uint32_t)l4[0] << 8) | l4[1]);
	p->dport = (uint16_t)(((uint32_t)l4[2] << 8) | l4[3]);
	p->payload = l4 + hdr;
	p->payload_len = l4len - hdr;
	return true;
}

static void make_flow_key(const struct hs_packet *p, struct hs_flow_key *k)
{
	uint32_t a = ntohl(p->saddr), b = ntohl(p->daddr);

	memset(k, 0, sizeof(*k));
	if (a < b || (a == b && p->sport <= p->dport)) {
		k->addr_lo = p->saddr;
		k->addr_hi = p->daddr;
		k->port_lo = p->sport;
		k->port_hi = p->dport;
	} else {
		k->addr_lo = p->daddr;
		k->addr_hi = p->saddr;
		k->port_lo = p->dport;
		k->port_hi = p->sport;
	}
	k->proto = p->proto;
}

/* Does the window (the first --window payload bytes) contain the pattern?
 * The copy always holds the whole window (see HS_MAX_HEADERS). */
static bool hs_payload_matches(const struct hs_packet *pkt)
{
	uint32_t n = pkt->payload_len < g_cfg.window ? pkt->payload_len
						     : g_cfg.window;
	uint32_t copied = (uint32_t)(pkt->l3 + pkt->l3_len - pkt->payload);

	if (!pkt->payload || !g_cfg.pattern_len || n < g_cfg.pattern_len)
		return false;
	if (n > copied)
		n = copied;
	return memmem(pkt->payload, n, g_cfg.pattern, g_cfg.pattern_len) != NULL;
}

/* ======================================================================== */
/*                                                                          */
/*   POLICY: put your own logic here.                                       */
/*                                                                          */
/*   hs_policy_decide() is called once for every queued packet, on the      */
/*   thread that owns the packet's queue. Return HS_VERDICT_ACCEPT or       */
/*   HS_VERDICT_DROP.                                                       */
/*                                                                          */
/*   pkt   parsed view of the packet (see struct hs_packet). Only the       */
/*         headers and the first --window payload bytes are copied to user  */
/*         space: raise --window to look deeper (costs copying).            */
/*         With GSO, one "packet" can be a 64 KiB TCP aggregate: the bytes  */
/*         you see are the start of it, pkt->ip_len is its full length.     */
/*   flow  the connection's entry in this thread's flow table (shared by    */
/*         both directions), or NULL (table full). flow->state,             */
/*         flow->user_u8[] and flow->user_u64[] are yours (zero when a flow */
/*         starts or restarts); last_seen_ms is maintained for you.         */
/*   w     the worker: w->ctr holds the counters (single writer, no atomics */
/*         needed). Add a counter by extending HS_COUNTERS above; it shows  */
/*         up in the stats file automatically.                              */
/*                                                                          */
/*   Rules of the fast path: no blocking calls, no printf per packet, no    */
/*   malloc per packet, no locks (state is per thread by design). Keep it   */
/*   cheap: every nanosecond here is overhead you will measure.             */
/*                                                                          */
/*   Example policy: if the payload contains --pattern, count a match and   */
/*   apply --action. With "drop", the whole flow (both directions) is then  */
/*   blocked until it has been idle for --flow-timeout seconds.             */
/*                                                                          */
/* ======================================================================== */
static int hs_policy_decide(struct hs_worker *w, const struct hs_packet *pkt,
			    struct hs_flow *flow)
{
	if (flow && flow->state == HS_FLOW_BLOCKED)
		return HS_VERDICT_DROP;

	if (hs_payload_matches(pkt)) {
		w->ctr.pattern_matches++;
		if (g_cfg.action == HS_VERDICT_DROP) {
			if (flow)
				flow->state = HS_FLOW_BLOCKED;
			return HS_VERDICT_DROP;
		}
		if (flow)
			flow->state = HS_FLOW_MATCHED;
	}
	return HS_VERDICT_ACCEPT;
}
/* ======================================================================== */
/*   END OF POLICY                                                          */
/* ======================================================================== */

static void handle_packet(struct hs_worker *w, struct hs_pq_packet *qp,
			  uint64_t now)
{
	struct hs_packet pkt;
	struct hs_flow_key key;
	struct hs_flow *flow;

	qp->verdict = HS_VERDICT_ACCEPT;
	if (qp->undecidable)
		return;		/* counted as bypassed by the queue layer */
	if (!parse_packet(qp, &pkt)) {
		w->ctr.other++;
		return;
	}
	w->ctr.packets++;
	w->ctr.bytes += pkt.ip_len;
	if (!pkt.ports) {
		/* Non-first fragment or malformed TCP/UDP header: no flow to
		 * decide with, nothing to scan. */
		w->ctr.accepted++;
		return;
	}
	make_flow_key(&pkt, &key);
	flow = ft_lookup(w, &key, now);
	if (hs_policy_decide(w, &pkt, flow) == HS_VERDICT_DROP) {
		qp->verdict = HS_VERDICT_DROP;
		w->ctr.dropped++;
	} else {
		w->ctr.accepted++;
	}
}

/* Copy the private counters to the published ones. */
static void publish(struct hs_worker *w)
{
	const struct hs_pq_counters *qc = &w->q.ctr;

	w->ctr.batches = qc->batches;
	w->ctr.verdict_msgs = qc->verdict_msgs;
	w->ctr.verdict_sends = qc->verdict_sends;
	w->ctr.enobufs = qc->enobufs;
	w->ctr.recv_errors = qc->recv_errors;
	w->ctr.send_errors = qc->send_errors;
	w->ctr.nl_errors = qc->nl_errors;
	w->ctr.bypassed = qc->bypassed;
	w->ctr.flows_active = w->ft.active;
#define X(name) __atomic_store_n(&w->pub.name, w->ctr.name, __ATOMIC_RELAXED);
	HS_COUNTERS(X)
#undef X
}

static void process_burst(struct hs_worker *w, int n)
{
	uint64_t now = now_ms(CLOCK_MONOTONIC_COARSE);

	for (int i = 0; i < n; i++)
		handle_packet(w, &w->q.pkts[i], now);
	/* A verdict that does not reach the kernel leaves its packets queued
	 * until the unbind drops them: retry (send_errors counts each try). */
	for (int tries = 0; hs_pq_send_verdicts(&w->q) < 0; tries++) {
		if (tries == HS_SEND_RETRIES) {
			fprintf(stderr, PROG ": queue %u: cannot send verdicts: %s; "
				"%u packets stay queued\n", w->q.cfg.queue_num,
				strerror(errno), w->q.npkts);
			w->q.npkts = 0;
			break;
		}
		usleep(1000);
	}
}

static void *worker_main(void *arg)
{
	struct hs_worker *w = arg;
	char name[16];
	uint64_t last_err_log = 0;

	snprintf(name, sizeof(name), "hs-queue-%u", w->q.cfg.queue_num);
	pthread_setname_np(pthread_self(), name);
	if (g_cfg.rt_priority) {
		/* The kernel's RT throttling (sched_rt_runtime_us) still leaves
		 * other tasks some CPU if a policy ever spins. */
		struct sched_param sp = { .sched_priority = g_cfg.rt_priority };
		int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

		if (e)
			fprintf(stderr, PROG ": queue %u: cannot run at real-time "
				"priority %d (%s); running as a normal thread\n",
				w->q.cfg.queue_num, g_cfg.rt_priority, strerror(e));
		else
			__atomic_store_n(&w->realtime, 1, __ATOMIC_RELAXED);
	}

	while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
		/* Blocks until at least one packet is there (or the receive
		 * timeout passes), then takes what is queued, up to a burst.
		 * No busy polling: on small machines the CPU it would burn is
		 * the CPU the forwarding itself needs (measured). */
		int n = hs_pq_recv_burst(&w->q, 0);
		uint64_t now;

		if (n > 0) {
			process_burst(w, n);
		} else if (n < 0) {
			now = now_ms(CLOCK_MONOTONIC);
			if (now - last_err_log >= 10000) {
				fprintf(stderr, PROG ": queue %u: receive: %s\n",
					w->q.cfg.queue_num, strerror(errno));
				last_err_log = now;
			}
			usleep(10000);
		}
		now = now_ms(CLOCK_MONOTONIC_COARSE);
		if (now - w->ft.last_gc_ms >= HS_GC_INTERVAL_MS)
			ft_gc(w, now);
		publish(w);
	}
	/* Shutdown: decide what is already queued; whatever is left (traffic
	 * that keeps coming) passes, as it will once the queue is unbound. */
	for (int rounds = 0; rounds < 1024; rounds++) {
		int n = hs_pq_recv_burst(&w->q, 1);

		if (n <= 0)
			break;
		process_burst(w, n);
	}
	hs_pq_accept_rest(&w->q);
	publish(w);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Stats file                                                                */
/* ------------------------------------------------------------------------ */

struct strbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->oom)
		return;
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = true;
			return;
		}
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		size_t ncap = sb->cap * 2 + (size_t)n + 64;
		char *nb = realloc(sb->buf, ncap);

		if (!nb) {
			sb->oom = true;
			return;
		}
		sb->buf = nb;
		sb->cap = ncap;
	}
}

static void sb_counters(struct strbuf *sb, const struct hs_counters *c,
			const char *indent)
{
#define X(name) sb_printf(sb, "%s\"" #name "\": %" PRIu64 ",\n", indent, c->name);
	HS_COUNTERS(X)
#undef X
}

static void read_published(const struct hs_worker *w, struct hs_counters *c)
{
#define X(name) c->name = __atomic_load_n(&w->pub.name, __ATOMIC_RELAXED);
	HS_COUNTERS(X)
#undef X
}

static int write_stats(uint64_t start_ms, bool running)
{
	static bool warned;
	struct strbuf sb = { 0 };
	struct hs_counters total = { 0 }, per[HS_MAX_QUEUES];
	struct timespec rt;
	char tmp[PATH_MAX];
	int fd, rc = -1;

	for (unsigned int i = 0; i < g_cfg.queues; i++) {
		read_published(&g_workers[i], &per[i]);
#define X(name) total.name += per[i].name;
		HS_COUNTERS(X)
#undef X
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	sb_printf(&sb, "{\n");
	sb_printf(&sb, "  \"schema\": \"hypershield.model-stats.v1\",\n");
	sb_printf(&sb, "  \"model\": \"user_space\",\n");
	sb_printf(&sb, "  \"pid\": %ld,\n", (long)getpid());
	sb_printf(&sb, "  \"running\": %s,\n", running ? "true" : "false");
	/* Tells the deployer that SIGHUP asks for this file (see main()). */
	sb_printf(&sb, "  \"refresh_signal\": \"SIGHUP\",\n");
	sb_printf(&sb, "  \"time_unix_ms\": %" PRIu64 ",\n",
		  (uint64_t)rt.tv_sec * 1000u + (uint64_t)rt.tv_nsec / 1000000u);
	sb_printf(&sb, "  \"uptime_ms\": %" PRIu64 ",\n",
		  now_ms(CLOCK_MONOTONIC) - start_ms);
	sb_printf(&sb,
		  "  \"config\": {\"queue_num\": %u, \"queues\": %u, "
		  "\"window\": %u, \"flow_timeout\": %u, \"action\": \"%s\", "
		  "\"pattern_len\": %zu, \"max_flows_per_queue\": %u, "
		  "\"rt_priority\": %d},\n",
		  g_cfg.queue_num, g_cfg.queues, g_cfg.window,
		  g_cfg.flow_timeout_s,
		  g_cfg.action == HS_VERDICT_DROP ? "drop" : "accept",
		  g_cfg.pattern_len, g_cfg.max_flows, g_cfg.rt_priority);
	sb_counters(&sb, &total, "  ");
	sb_printf(&sb, "  \"per_queue\": [");
	for (unsigned int i = 0; i < g_cfg.queues; i++) {
		struct hs_pq_kernel_stats ks;
		unsigned int qn = g_cfg.queue_num + i;

		sb_printf(&sb, "%s\n    {\n      \"queue\": %u,\n"
			  "      \"realtime\": %s,\n", i ? "," : "", qn,
			  __atomic_load_n(&g_workers[i].realtime, __ATOMIC_RELAXED) ? "true" : "false");
		sb_counters(&sb, &per[i], "      ");
		/* After the queues are unbound (final write) the kernel no
		 * longer lists them: report the last values read. */
		static struct hs_pq_kernel_stats last_ks[HS_MAX_QUEUES];
		static bool have_ks[HS_MAX_QUEUES];

		if (hs_pq_kernel_stats((uint16_t)qn, &ks) == 0) {
			last_ks[i] = ks;
			have_ks[i] = true;
		} else if (have_ks[i]) {
			ks = last_ks[i];
		}
		if (have_ks[i])
			sb_printf(&sb,
				  "      \"kernel\": {\"queue_total\": %u, "
				  "\"queue_dropped\": %u, \"user_dropped\": %u, "
				  "\"id_sequence\": %u}\n    }",
				  ks.queue_total, ks.queue_dropped,
				  ks.user_dropped, ks.id_sequence);
		else
			sb_printf(&sb, "      \"kernel\": null\n    }");
	}
	sb_printf(&sb, "\n  ]\n}\n");
	if (sb.oom)
		goto out;

	/* Atomic replace: readers see the old or the new file, never half. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", g_cfg.stats_path,
		     (long)getpid()) >= (int)sizeof(tmp))
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	size_t off = 0;

	while (off < sb.len) {
		ssize_t n = write(fd, sb.buf + off, sb.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) == 0 && off == sb.len && rename(tmp, g_cfg.stats_path) == 0)
		rc = 0;
	else
		unlink(tmp);
out:
	if (rc != 0 && !warned) {
		fprintf(stderr, PROG ": cannot write stats file %s: %s\n",
			g_cfg.stats_path, sb.oom ? "out of memory" : strerror(errno));
		warned = true;
	}
	free(sb.buf);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: " PROG " --queue-num BASE --queues N --stats FILE [options]\n"
"\n"
"Inline NFQUEUE security model: one thread per queue BASE..BASE+N-1.\n"
"Send traffic to it with, e.g.:\n"
"  iptables -I FORWARD -j NFQUEUE --queue-balance BASE:BASE+N-1 --queue-bypass\n"
"\n"
"  --queue-num BASE        first queue number (default 0)\n"
"  --queues N              number of queues/threads, 1..%d (default 1)\n"
"  --stats FILE            write JSON counters to FILE every second (required)\n"
"  --pattern HEX           payload bytes to look for, e.g. 4849444531 (default:\n"
"                          none, nothing matches); up to %d bytes\n"
"  --action drop|accept    what to do with a matching packet and its flow\n"
"                          (default drop)\n"
"  --flow-timeout SECONDS  forget flows idle this long, 1..86400 (default 30)\n"
"  --window BYTES          payload bytes inspected per packet, 1..%d\n"
"                          (default 256)\n"
"  --max-flows N           flows tracked per queue, 1..%u (default 65536);\n"
"                          when full, new flows are refused\n"
"  --rt-priority N         run the queue threads SCHED_FIFO at priority N,\n"
"                          1..99, or normally with 0 (default 1): a packet then\n"
"                          wakes its thread at once instead of after whatever\n"
"                          runs on that CPU (measured: about 10 %% more\n"
"                          throughput on a 2-core machine)\n"
"  --help                  show this help\n"
"\n"
"Prints \"ready\" on stdout once all queues are bound. SIGTERM/SIGINT: unbind,\n"
"write final stats, exit 0. Exit 2: bad arguments; exit 1: runtime failure.\n",
		HS_MAX_QUEUES, HS_MAX_PATTERN, HS_MAX_WINDOW, HS_MAX_FLOWS);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
arg_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(2);
}

static unsigned long parse_uint(const char *opt, const char *s,
				unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		arg_error("invalid value for %s: '%s' (expected an integer %lu..%lu)",
			  opt, s ? s : "", min, max);
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		arg_error("invalid value for %s: '%s' (expected an integer %lu..%lu)",
			  opt, s, min, max);
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void parse_pattern(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n % 2 || n / 2 > HS_MAX_PATTERN)
		arg_error("invalid value for --pattern: expected an even number of "
			  "hex digits, 1..%d bytes (e.g. 4849444531)", HS_MAX_PATTERN);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			arg_error("invalid value for --pattern: '%c%c' is not a hex byte",
				  s[i], s[i + 1]);
		g_cfg.pattern[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	g_cfg.pattern_len = n / 2;
}

static void parse_args(int argc, char **argv)
{
	enum { O_QNUM = 1, O_QUEUES, O_STATS, O_PATTERN, O_ACTION, O_TIMEOUT,
	       O_WINDOW, O_MAX_FLOWS, O_RT, O_HELP };
	static const struct option opts[] = {
		{ "queue-num", required_argument, NULL, O_QNUM },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "stats", required_argument, NULL, O_STATS },
		{ "pattern", required_argument, NULL, O_PATTERN },
		{ "action", required_argument, NULL, O_ACTION },
		{ "flow-timeout", required_argument, NULL, O_TIMEOUT },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "max-flows", required_argument, NULL, O_MAX_FLOWS },
		{ "rt-priority", required_argument, NULL, O_RT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	/* "+:" : stop at the first non-option, report missing values as ':'. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case O_QNUM:
			g_cfg.queue_num = (unsigned int)parse_uint("--queue-num",
								   optarg, 0, 65535);
			break;
		case O_QUEUES:
			g_cfg.queues = (unsigned int)parse_uint("--queues", optarg,
								1, HS_MAX_QUEUES);
			break;
		case O_STATS:
			if (!*optarg)
				arg_error("invalid value for --stats: empty path");
			g_cfg.stats_path = optarg;
			break;
		case O_PATTERN:
			parse_pattern(optarg);
			break;
		case O_ACTION:
			if (strcmp(optarg, "drop") == 0)
				g_cfg.action = HS_VERDICT_DROP;
			else if (strcmp(optarg, "accept") == 0)
				g_cfg.action = HS_VERDICT_ACCEPT;
			else
				arg_error("invalid value for --action: '%s' (expected drop or accept)",
					  optarg);
			break;
		case O_TIMEOUT:
			g_cfg.flow_timeout_s = (unsigned int)parse_uint(
				"--flow-timeout", optarg, 1, 86400);
			break;
		case O_WINDOW:
			g_cfg.window = (unsigned int)parse_uint("--window", optarg,
								1, HS_MAX_WINDOW);
			break;
		case O_MAX_FLOWS:
			g_cfg.max_flows = (unsigned int)parse_uint("--max-flows",
								   optarg, 1, HS_MAX_FLOWS);
			break;
		case O_RT:
			g_cfg.rt_priority = (int)parse_uint("--rt-priority",
							    optarg, 0, 99);
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			exit(0);
		case ':':
			arg_error("missing value for %s", argv[optind - 1]);
		default:
			arg_error("unknown argument '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		arg_error("unexpected argument '%s'", argv[optind]);
	if (!g_cfg.stats_path)
		arg_error("missing required argument --stats FILE");
	if (g_cfg.queue_num + g_cfg.queues - 1 > 65535)
		arg_error("invalid value for --queues: queues %u..%u exceed 65535",
			  g_cfg.queue_num, g_cfg.queue_num + g_cfg.queues - 1);
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static void close_all(void)
{
	for (unsigned int i = 0; i < g_cfg.queues; i++) {
		hs_pq_close(&g_workers[i].q);
		ft_free(&g_workers[i].ft);
	}
}

int main(int argc, char **argv)
{
	sigset_t sigs;
	uint64_t start_ms = now_ms(CLOCK_MONOTONIC);
	char err[256];
	int rc = 0;

	parse_args(argc, argv);
	if (getrandom(&g_hash_seed, sizeof(g_hash_seed), 0) != sizeof(g_hash_seed)) {
		fprintf(stderr, PROG ": cannot seed the flow hash: %s\n", strerror(errno));
		return 1;
	}

	/* Signals are handled synchronously by the main thread only. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	g_workers = aligned_alloc(64, sizeof(*g_workers) * HS_MAX_QUEUES);
	if (!g_workers) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	memset(g_workers, 0, sizeof(*g_workers) * HS_MAX_QUEUES);

	for (unsigned int i = 0; i < g_cfg.queues; i++) {
		struct hs_worker *w = &g_workers[i];
		struct hs_pq_config qc = {
			.queue_num = (uint16_t)(g_cfg.queue_num + i),
			.copy_range = g_cfg.window + HS_MAX_HEADERS,
			.queue_maxlen = HS_QUEUE_MAXLEN,
			.rcvbuf_bytes = HS_RCVBUF_BYTES,
			.burst = HS_PQ_MAX_BURST,
			.recv_timeout_ms = HS_RECV_TIMEOUT_MS,
		};

		w->index = i;
		if (ft_init(&w->ft) < 0) {
			fprintf(stderr, PROG ": out of memory for flow table\n");
			g_cfg.queues = i + 1;
			close_all();
			return 1;
		}
		if (hs_pq_open(&w->q, &qc, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			g_cfg.queues = i + 1;
			close_all();
			return 1;
		}
		w->ft.last_gc_ms = now_ms(CLOCK_MONOTONIC_COARSE);
	}
	if (write_stats(start_ms, true) != 0) {
		close_all();
		return 1;
	}
	for (unsigned int i = 0; i < g_cfg.queues; i++) {
		int e = pthread_create(&g_workers[i].thread, NULL, worker_main,
				       &g_workers[i]);

		if (e) {
			fprintf(stderr, PROG ": cannot start thread: %s\n",
				strerror(e));
			__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
			rc = 1;
			break;
		}
		g_workers[i].started = true;
	}
	if (rc == 0) {
		fputs("ready\n", stdout);
		fflush(stdout);
	}

	while (rc == 0) {
		/* Wake up at the next full second of uptime. */
		uint64_t up = now_ms(CLOCK_MONOTONIC) - start_ms;
		uint64_t wait = 1000 - up % 1000;	/* 1..1000 ms */
		struct timespec ts = { .tv_sec = (time_t)(wait / 1000),
				       .tv_nsec = (long)(wait % 1000) * 1000000L };
		int sig = sigtimedwait(&sigs, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM)
			break;
		/* The second is up, or SIGHUP: someone wants the counters now. */
		write_stats(start_ms, true);
	}

	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < g_cfg.queues; i++)
		if (g_workers[i].started)
			pthread_join(g_workers[i].thread, NULL);
	/* Counters are final now; this write also records the kernel's queue
	 * counters, which disappear when the queues are unbound. */
	write_stats(start_ms, false);
	close_all();
	if (write_stats(start_ms, false) != 0)
		rc = 1;
	free(g_workers);
	return rc;
}
