// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ebpf_model.c - HyperShield security model as an eBPF program (tc clsact).
 *
 * Same example policy as user_space_model.c and kernel_space.c: a 5-tuple
 * flow table with idle expiry, and a payload byte pattern that drops (or
 * just counts) the packet and, with action drop, blocks its whole flow.
 * What the policy sees and how the flow table behaves is spelled out in
 * README.md ("One policy, three placements"); the conformance suite holds
 * all three to it. IPv4 only; everything else, and IPv4 packets whose
 * header the IP stack would reject anyway, pass untouched (counted as
 * "other"): tc ingress runs before the stack's own checks.
 * Runs on tc ingress, needs no kernel module and works in network
 * namespaces and containers. Kernel >= 5.12 (global functions that take
 * pointers); tested on 6.1 (Debian 12) and 6.18.
 *
 * Build:   make ebpf          (clang -O2 -g -target bpf -> build/ebpf_model.o)
 *
 * Attach on the ingress of BOTH model interfaces (each direction is seen
 * once). The maps are pinned by name, so the second attach reuses the maps
 * of the first: one flow table, one set of counters, one config.
 *
 * Where the pins go, and why the commands below avoid `ip netns exec`:
 * tc pins into the first bpf filesystem it finds, under <bpffs>/tc/globals/,
 * and mounts one at /sys/fs/bpf if there is none. `ip netns exec` (and
 * `tc -n`, `ip -n`) remount /sys for the namespace, which hides the host's
 * /sys/fs/bpf; tc then mounts a private bpffs that disappears with the
 * command, and the pins are lost (the program keeps working, but nothing
 * can be read or configured by path any more). What works, measured here
 * (kernel 6.18, iproute2 6.1, bpftool 7.1):
 *
 *   - give every model its own bpffs directory in the HOST mount namespace
 *     and point tc at it with TC_BPF_MNT (pins then live in
 *     $PIN/tc/globals/), and enter only the network namespace with nsenter,
 *     not the mount namespace:
 *
 *     PIN=/sys/fs/bpf/hypershield/<model-name>      # one per model host
 *     mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
 *     mkdir -p $PIN
 *     NS="nsenter --net=/run/netns/<netns>"         # or --target <pid> --net
 *     for IF in <if-a> <if-b>; do
 *       $NS tc qdisc replace dev $IF clsact
 *       TC_BPF_MNT=$PIN $NS tc filter replace dev $IF ingress \
 *           bpf direct-action obj build/ebpf_model.o sec tc
 *     done
 *
 *     Alternative that works with `ip netns exec`: a bpffs OUTSIDE /sys,
 *     which `ip netns exec` leaves visible, e.g.
 *       mkdir -p /run/hypershield/bpf && mount -t bpf bpf /run/hypershield/bpf
 *       PIN=/run/hypershield/bpf/<model-name>; mkdir -p $PIN
 *       ip netns exec <netns> env TC_BPF_MNT=$PIN tc filter replace ...
 *     $PIN must exist before tc runs; if it does not, tc mounts a new bpffs
 *     there, which under `ip netns exec` is private and vanishes with tc.
 *     Without TC_BPF_MNT all models of a machine would pin into the same
 *     /sys/fs/bpf/tc/globals/ and share (reuse) one another's maps.
 *     In a VM model host, plain `tc` works (systemd mounts /sys/fs/bpf);
 *     the pins are then in /sys/fs/bpf/tc/globals/.
 *
 *   - configure (all values little-endian, see struct hs_config below):
 *     bpftool map update pinned $PIN/tc/globals/hs_config \
 *         key hex 00 00 00 00 value hex <84 bytes>
 *     e.g. pattern "HSDROP" (48 53 44 52 4f 50), action drop, timeout 30 s,
 *     the default window and table size:
 *       value hex 06 00 00 00  00 00 00 00  1e 00 00 00  00 00 00 00 \
 *                 48 53 44 52 4f 50  followed by 62 x 00
 *     The config is read per packet, so it can be changed at any time.
 *
 *   - read counters (per-CPU values; sum them):
 *     bpftool -j map dump pinned $PIN/tc/globals/hs_counters
 *     With BTF (built with -g, as the Makefile does) each element has
 *     "formatted": {"key": i, "values": [{"cpu": c, "value": n}, ...]};
 *     key i = counter i of enum hs_counter below (packets, bytes, ...).
 *     Flows in the table (idle ones included): the "flows" field of
 *     bpftool -j map dump pinned $PIN/tc/globals/hs_table
 *
 *   - detach and clean up:
 *     $NS tc filter del dev $IF ingress; $NS tc qdisc del dev $IF clsact
 *     rm -r $PIN   (the maps are freed once no program and no pin holds them)
 *
 * Containers: attach from the host with nsenter --target <container pid>
 * --net (a container with only NET_ADMIN cannot load BPF programs itself).
 * The program itself is namespace-agnostic.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* ------------------------------------------------------------------------ */
/* Maps (the deployer reads and writes these; keep the layout stable)       */
/* ------------------------------------------------------------------------ */

#define HS_MAX_PATTERN 64	/* bytes */
#define HS_MAX_WINDOW 1024	/* largest inspection window (power of 2) */
#define HS_DEFAULT_WINDOW 256	/* payload bytes inspected per packet */
#define HS_MAX_FLOWS 65536
#define HS_DEFAULT_TIMEOUT_S 30
#define HS_REFRESH_NS 100000000ULL	/* last_seen is written at most this often */
#define HS_FULL_GC_NS 100000000ULL	/* a full table is swept at most this often */

enum hs_counter {
	HS_CTR_PACKETS = 0,	/* IPv4 packets seen by the policy */
	HS_CTR_BYTES,		/* their IP length (GSO aggregates counted whole) */
	HS_CTR_ACCEPTED,
	HS_CTR_DROPPED,
	HS_CTR_PATTERN_MATCHES,
	HS_CTR_FLOWS_CREATED,
	HS_CTR_FLOWS_EXPIRED,	/* idle flows restarted or swept */
	HS_CTR_FLOWS_TABLE_FULL,	/* packets whose new flow found no room */
	HS_CTR_OTHER,		/* non-IPv4 or invalid IPv4, passed untouched */
	HS_CTR_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hs_counters SEC(".maps");

/* Value of hs_config[0]; 84 bytes, little-endian on x86. All zero (the
 * state after loading) means: no pattern, action drop, 30 s timeout,
 * 256-byte window. */
struct hs_config {
	__u32 pattern_len;	/* 0: nothing matches; max HS_MAX_PATTERN */
	__u32 action;		/* 0 = drop, 1 = accept (count only) */
	__u32 flow_timeout_s;	/* 0 = HS_DEFAULT_TIMEOUT_S */
	__u32 window;		/* payload bytes inspected; 0 = HS_DEFAULT_WINDOW,
				 * larger than HS_MAX_WINDOW = HS_MAX_WINDOW */
	__u8 pattern[HS_MAX_PATTERN];
	__u32 max_flows;	/* 0 or more than HS_MAX_FLOWS = HS_MAX_FLOWS */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hs_config SEC(".maps");

/* Direction-independent 5-tuple: lower (address, port) first. */
struct hs_flow_key {
	__u32 addr_lo;		/* network order */
	__u32 addr_hi;
	__u16 port_lo;		/* network order */
	__u16 port_hi;
	__u8 proto;
	__u8 pad[3];
};

enum hs_flow_state {
	HS_FLOW_NEW = 0,
	HS_FLOW_MATCHED,	/* pattern seen, action accept */
	HS_FLOW_BLOCKED,	/* pattern seen, action drop */
};

struct hs_flow {
	__u64 last_seen_ns;	/* bpf_ktime_get_coarse_ns() */
	__u32 state;		/* enum hs_flow_state */
	__u32 user;		/* free for your policy */
};

/* A plain hash, not an LRU: an LRU would evict blocked flows to make room
 * for new tuples, so anyone could unblock a flow by opening others. When
 * full, idle flows are swept (at most every HS_FULL_GC_NS) and, if that
 * frees nothing, the new flow is refused: its packets are decided without
 * flow state and counted as flows_table_full. Idle flows are otherwise
 * restarted when their tuple comes back. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_MAX_FLOWS);
	__type(key, struct hs_flow_key);
	__type(value, struct hs_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hs_flows SEC(".maps");

/* The flow table's own bookkeeping, shared by all CPUs. */
struct hs_table {
	__u64 flows;		/* entries in hs_flows (atomic) */
	__u64 last_sweep_ns;	/* racy: at worst two CPUs sweep at once */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_table);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hs_table SEC(".maps");

/* Scratch buffer for the scanned payload bytes (too big for the stack).
 * tc programs run with bottom halves disabled, so a per-CPU buffer cannot
 * be used by two invocations at once. Not pinned: private per load. */
struct hs_scratch {
	union {
		__u8 buf[HS_MAX_WINDOW];
		__u64 word[HS_MAX_WINDOW / 8];	/* whole loads, not 8 byte loads */
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_scratch);
} hs_scratch SEC(".maps");

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static __always_inline void ctr_add(__u32 idx, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&hs_counters, &idx);

	if (c)
		*c += v;	/* per-CPU: no atomics needed */
}

/* Does the whole pattern start at offset p of the scanned bytes, with
 * p <= last (the last offset it can start at)? The word scan's candidates
 * include bytes that are not pattern[0], so byte 0 is compared too.
 * A global function: the verifier checks it once, on its own, and not once
 * for every place of the scan that calls it. */
__noinline int hs_pattern_at(const struct hs_scratch *s,
			     const struct hs_config *cfg, __u32 p, __u32 last)
{
	if (!s || !cfg || p > last)
		return 0;
	for (__u32 j = 0; j < HS_MAX_PATTERN; j++) {
		if (j >= cfg->pattern_len)
			break;
		if (s->buf[(p + j) & (HS_MAX_WINDOW - 1)] != cfg->pattern[j])
			return 0;
	}
	return 1;
}

/* Does s->buf[0, len) contain the pattern? A global function as well, so
 * its loop is verified once and not again on every path of the caller.
 * A word (8 bytes) at a time: v has a zero byte where the payload equals
 * pattern[0], and hits has bit 7 set in each such byte (and perhaps in a
 * byte above one, through the borrow: hs_pattern_at() compares every byte,
 * so those are sorted out there). Open-coded, this scan takes less than
 * half the time of one through bpf_loop() with a callback per 16 bytes
 * (measured). */
__noinline int hs_scan(const struct hs_scratch *s, const struct hs_config *cfg,
		       __u32 len)
{
	if (!s || !cfg)
		return 0;
	__u32 plen = cfg->pattern_len;

	if (plen == 0 || plen > HS_MAX_PATTERN || len < plen ||
	    len > HS_MAX_WINDOW)
		return 0;
	const __u64 ones = 0x0101010101010101ULL;
	const __u64 first = cfg->pattern[0] * ones;
	__u32 last = len - plen;	/* last offset the pattern can start at */

	for (__u32 w = 0; w < HS_MAX_WINDOW; w += 8) {
		if (w > last)
			break;
		__u64 v = s->word[w / 8] ^ first;
		__u64 hits = (v - ones) & ~v & (ones << 7);

		if (!hits)
			continue;
		for (__u32 b = 0; b < 8; b++)
			if ((hits >> (b * 8)) & 0x80 &&
			    hs_pattern_at(s, cfg, w + b, last))
				return 1;
	}
	return 0;
}

/* Does the payload at [off, off + len) contain the configured pattern?
 * Only the first window bytes are looked at. */
static __always_inline int payload_matches(struct __sk_buff *skb, __u32 off,
					   __u32 len,
					   const struct hs_config *cfg)
{
	__u32 zero = 0;
	__u32 window = cfg->window ? cfg->window : HS_DEFAULT_WINDOW;
	struct hs_scratch *s;

	if (window > HS_MAX_WINDOW)
		window = HS_MAX_WINDOW;
	if (len > window)
		len = window;
	if (cfg->pattern_len == 0 || len < cfg->pattern_len)
		return 0;
	/* Still len, now 1..HS_MAX_WINDOW by arithmetic: older verifiers
	 * (Debian 12's 6.1) lose the bounds the compares above give, and
	 * reject the read into the scratch buffer as possibly 0 bytes. */
	len = ((len - 1) & (HS_MAX_WINDOW - 1)) + 1;
	s = bpf_map_lookup_elem(&hs_scratch, &zero);
	if (!s)
		return 0;
	/* Also reads paged (non-linear) data, e.g. of 64 KiB GSO packets. */
	if (bpf_skb_load_bytes(skb, off, s->buf, len) < 0)
		return 0;
	return hs_scan(s, cfg, len);
}

/* ======================================================================== */
/*                                                                          */
/*   POLICY: put your own logic here.                                       */
/*                                                                          */
/*   Called for every IPv4 packet arriving on an interface the program is  */
/*   attached to. Return TC_ACT_OK (pass) or TC_ACT_SHOT (drop).            */
/*                                                                          */
/*   skb      the packet; skb->data starts at the Ethernet header.          */
/*   iph      its IPv4 header (already bounds-checked, direct access).      */
/*   l4_off   offset of the TCP/UDP header from skb->data.                  */
/*   pay_off  offset of the payload, pay_len its length (whole packet, not  */
/*            just the linear part; read it with bpf_skb_load_bytes()).     */
/*            0/0 for protocols other than TCP and UDP.                     */
/*   flow     this connection's entry (both directions), or NULL.          */
/*                                                                          */
/*   Verifier rules: every loop bounded, packet pointers checked against    */
/*   data_end before use, at most 512 bytes of stack.                       */
/*   Example policy: pattern found -> count; with action drop, drop the     */
/*   packet and block the flow until it is idle for flow_timeout_s.         */
/*                                                                          */
/* ======================================================================== */
static __always_inline int hs_policy_decide(struct __sk_buff *skb,
					    const struct iphdr *iph,
					    __u32 l4_off, __u32 pay_off,
					    __u32 pay_len,
					    const struct hs_config *cfg,
					    struct hs_flow *flow)
{
	(void)iph;
	(void)l4_off;

	if (flow && flow->state == HS_FLOW_BLOCKED)
		return TC_ACT_SHOT;

	if (payload_matches(skb, pay_off, pay_len, cfg)) {
		ctr_add(HS_CTR_PATTERN_MATCHES, 1);
		if (cfg->action == 0) {
			if (flow)
				flow->state = HS_FLOW_BLOCKED;
			return TC_ACT_SHOT;
		}
		if (flow)
			flow->state = HS_FLOW_MATCHED;
	}
	return TC_ACT_OK;
}
/* ======================================================================== */
/*   END OF POLICY                                                          */
/* ======================================================================== */

struct hs_sweep_ctx {
	__u64 now;
	__u64 timeout_ns;
	struct hs_table *table;
	__u32 freed;
};

static long sweep_one(void *map, const struct hs_flow_key *key,
		      struct hs_flow *f, struct hs_sweep_ctx *ctx)
{
	if ((__s64)(ctx->now - f->last_seen_ns) > (__s64)ctx->timeout_ns &&
	    bpf_map_delete_elem(map, key) == 0) {
		/* Counted here, not summed in ctx: a sum would give the
		 * verifier a new state for every element. */
		ctr_add(HS_CTR_FLOWS_EXPIRED, 1);
		__sync_fetch_and_add(&ctx->table->flows, -1);
		ctx->freed = 1;
	}
	return 0;
}

/* The table is full: remove idle flows, unless that was done less than
 * HS_FULL_GC_NS ago. Returns whether anything was removed. */
static __always_inline int sweep_if_due(struct hs_table *t, __u64 now,
					__u64 timeout_ns)
{
	struct hs_sweep_ctx ctx = { .now = now, .timeout_ns = timeout_ns,
				    .table = t };

	if ((__s64)(now - t->last_sweep_ns) < (__s64)HS_FULL_GC_NS)
		return 0;
	t->last_sweep_ns = now;
	bpf_for_each_map_elem(&hs_flows, sweep_one, &ctx, 0);
	return ctx.freed;
}

/* Takes a slot for a new flow, sweeping idle flows when there is none.
 * Reserving first (an atomic add) keeps the table within max_flows even
 * when CPUs race; the map's own limit is HS_MAX_FLOWS. */
static __always_inline int reserve_slot(struct hs_table *t, __u64 max_flows,
					__u64 now, __u64 timeout_ns)
{
	if (__sync_fetch_and_add(&t->flows, 1) < max_flows)
		return 1;
	__sync_fetch_and_add(&t->flows, -1);
	if (!sweep_if_due(t, now, timeout_ns))
		return 0;
	if (__sync_fetch_and_add(&t->flows, 1) < max_flows)
		return 1;
	__sync_fetch_and_add(&t->flows, -1);
	return 0;
}

static __always_inline struct hs_flow *flow_get(const struct hs_flow_key *key,
						__u64 now, __u64 timeout_ns,
						__u64 max_flows)
{
	__u32 zero = 0;
	struct hs_flow *f = bpf_map_lookup_elem(&hs_flows, key);

	if (f) {
		__u64 seen = f->last_seen_ns;
		/* Signed: another CPU may have stored a time later than ours. */
		__s64 idle = (__s64)(now - seen);

		if (idle > (__s64)timeout_ns) {
			/* Idle too long: a new flow with the same tuple. Only
			 * the CPU that moves last_seen_ns restarts it. */
			if (__sync_val_compare_and_swap(&f->last_seen_ns, seen,
							now) == seen) {
				f->state = HS_FLOW_NEW;
				f->user = 0;
				ctr_add(HS_CTR_FLOWS_EXPIRED, 1);
				ctr_add(HS_CTR_FLOWS_CREATED, 1);
			}
		} else if (idle > (__s64)HS_REFRESH_NS) {
			/* Fewer cache-line writes shared between CPUs. */
			f->last_seen_ns = now;
		}
		return f;
	}
	struct hs_table *t = bpf_map_lookup_elem(&hs_table, &zero);
	struct hs_flow nf = { .last_seen_ns = now };

	if (!t || !reserve_slot(t, max_flows, now, timeout_ns)) {
		ctr_add(HS_CTR_FLOWS_TABLE_FULL, 1);
		return NULL;
	}
	/* NOEXIST: if another CPU created it meanwhile, use that one. */
	if (bpf_map_update_elem(&hs_flows, key, &nf, BPF_NOEXIST) == 0)
		ctr_add(HS_CTR_FLOWS_CREATED, 1);
	else
		__sync_fetch_and_add(&t->flows, -1);
	f = bpf_map_lookup_elem(&hs_flows, key);
	if (!f)
		ctr_add(HS_CTR_FLOWS_TABLE_FULL, 1);
	return f;
}

SEC("tc")
int hs_tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct hs_flow_key key = {};
	struct hs_flow *flow = NULL;
	__u32 zero = 0, ihl, ip_len, frame_ip_len, l4_off, pay_off = 0;
	__u32 pay_len = 0;
	__u16 sport = 0, dport = 0;
	int verdict, has_ports = 0;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	/* VLAN-tagged frames: the tag is taken off before tc ingress, but
	 * without a VLAN device the IP stack drops them. */
	if (eth->h_proto != bpf_htons(ETH_P_IP) || skb->vlan_present) {
		ctr_add(HS_CTR_OTHER, 1);
		return TC_ACT_OK;
	}
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end) {
		ctr_add(HS_CTR_OTHER, 1);
		return TC_ACT_OK;
	}
	/* The IP stack drops these right after tc (ip_rcv): not ours. */
	ihl = (__u32)iph->ihl * 4;
	frame_ip_len = skb->len - sizeof(*eth);
	ip_len = bpf_ntohs(iph->tot_len);
	if (ip_len == 0)	/* BIG TCP aggregate: no 16-bit length */
		ip_len = frame_ip_len;
	if (iph->version != 4 || ihl < sizeof(*iph) || ip_len < ihl ||
	    ip_len > frame_ip_len) {
		ctr_add(HS_CTR_OTHER, 1);
		return TC_ACT_OK;
	}
	l4_off = sizeof(*eth) + ihl;

	const struct hs_config *cfg = bpf_map_lookup_elem(&hs_config, &zero);

	if (!cfg)
		return TC_ACT_OK;

	ctr_add(HS_CTR_PACKETS, 1);
	ctr_add(HS_CTR_BYTES, ip_len);

	/* Ports and payload. Non-first fragments have neither, and neither
	 * have TCP/UDP headers that do not fit the packet (or a TCP data
	 * offset below 5 words): such packets pass without a flow. */
	if (iph->frag_off & bpf_htons(0x1fff)) {
		ctr_add(HS_CTR_ACCEPTED, 1);
		return TC_ACT_OK;
	}
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr th;
		__u32 doff;

		if (ihl + sizeof(th) > ip_len ||
		    bpf_skb_load_bytes(skb, l4_off, &th, sizeof(th)) < 0) {
			ctr_add(HS_CTR_ACCEPTED, 1);
			return TC_ACT_OK;
		}
		doff = (__u32)th.doff * 4;
		if (doff < sizeof(th) || ihl + doff > ip_len) {
			ctr_add(HS_CTR_ACCEPTED, 1);
			return TC_ACT_OK;
		}
		sport = th.source;
		dport = th.dest;
		pay_off = l4_off + doff;
		has_ports = 1;
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr uh;

		if (ihl + sizeof(uh) > ip_len ||
		    bpf_skb_load_bytes(skb, l4_off, &uh, sizeof(uh)) < 0) {
			ctr_add(HS_CTR_ACCEPTED, 1);
			return TC_ACT_OK;
		}
		sport = uh.source;
		dport = uh.dest;
		pay_off = l4_off + sizeof(uh);
		has_ports = 1;
	}
	if (has_ports)
		pay_len = sizeof(*eth) + ip_len - pay_off;

	/* Compared as numbers (host order), like the other placements. */
	__u32 saddr = bpf_ntohl(iph->saddr), daddr = bpf_ntohl(iph->daddr);

	if (saddr < daddr ||
	    (saddr == daddr && bpf_ntohs(sport) <= bpf_ntohs(dport))) {
		key.addr_lo = iph->saddr;
		key.addr_hi = iph->daddr;
		key.port_lo = sport;
		key.port_hi = dport;
	} else {
		key.addr_lo = iph->daddr;
		key.addr_hi = iph->saddr;
		key.port_lo = dport;
		key.port_hi = sport;
	}
	key.proto = iph->protocol;

	__u64 timeout_s = cfg->flow_timeout_s ? cfg->flow_timeout_s
					      : HS_DEFAULT_TIMEOUT_S;

	__u64 max_flows = cfg->max_flows && cfg->max_flows < HS_MAX_FLOWS
				  ? cfg->max_flows : HS_MAX_FLOWS;

	flow = flow_get(&key, bpf_ktime_get_coarse_ns(),
			timeout_s * 1000000000ULL, max_flows);
	verdict = hs_policy_decide(skb, iph, l4_off, pay_off, pay_len, cfg, flow);
	ctr_add(verdict == TC_ACT_SHOT ? HS_CTR_DROPPED : HS_CTR_ACCEPTED, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
