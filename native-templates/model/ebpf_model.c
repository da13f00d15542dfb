// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ebpf_model.c - HyperShield security model as an eBPF program (tc clsact).
 *
 * Same example policy as user_space_model.c and kernel_space.c: a 5-tuple
 * flow table with idle expiry, and a payload byte pattern that drops (or
 * just counts) the packet and, with action drop, blocks its whole flow.
 * IPv4 only; everything else passes untouched (counted as "other").
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
 *         key hex 00 00 00 00 value hex <80 bytes>
 *     e.g. pattern "HSDROP" (48 53 44 52 4f 50), action drop, timeout 30 s:
 *       value hex 06 00 00 00  00 00 00 00  1e 00 00 00  00 00 00 00 \
 *                 48 53 44 52 4f 50  followed by 58 x 00
 *     The config is read per packet, so it can be changed at any time.
 *
 *   - read counters (per-CPU values; sum them):
 *     bpftool -j map dump pinned $PIN/tc/globals/hs_counters
 *     With BTF (built with -g, as the Makefile does) each element has
 *     "formatted": {"key": i, "values": [{"cpu": c, "value": n}, ...]};
 *     key i = counter i of enum hs_counter below (packets, bytes, ...).
 *     Count active flows: bpftool -j map dump pinned $PIN/tc/globals/hs_flows
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
#define HS_SCAN_BYTES 256	/* payload bytes scanned per packet (power of 2) */
#define HS_MAX_FLOWS 65536
#define HS_DEFAULT_TIMEOUT_S 30

enum hs_counter {
	HS_CTR_PACKETS = 0,	/* IPv4 packets seen by the policy */
	HS_CTR_BYTES,		/* their IP length (GSO aggregates counted whole) */
	HS_CTR_ACCEPTED,
	HS_CTR_DROPPED,
	HS_CTR_PATTERN_MATCHES,
	HS_CTR_FLOWS_CREATED,
	HS_CTR_FLOWS_EXPIRED,	/* idle flows found and restarted */
	HS_CTR_FLOWS_TABLE_FULL,	/* flow could not be inserted */
	HS_CTR_OTHER,		/* non-IPv4 packets, passed untouched */
	HS_CTR_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HS_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hs_counters SEC(".maps");

/* Value of hs_config[0]; 80 bytes, little-endian on x86. All zero (the
 * state after loading) means: no pattern, action drop, 30 s timeout. */
struct hs_config {
	__u32 pattern_len;	/* 0: nothing matches; max HS_MAX_PATTERN */
	__u32 action;		/* 0 = drop, 1 = accept (count only) */
	__u32 flow_timeout_s;	/* 0 = HS_DEFAULT_TIMEOUT_S */
	__u32 reserved;
	__u8 pattern[HS_MAX_PATTERN];
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
	__u64 packets;
	__u64 bytes;
	__u32 state;		/* enum hs_flow_state */
	__u32 user;		/* free for your policy */
};

/* LRU: when full, the least recently used flows are evicted, so the table
 * never grows beyond HS_MAX_FLOWS; idle flows are restarted on lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HS_MAX_FLOWS);
	__type(key, struct hs_flow_key);
	__type(value, struct hs_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hs_flows SEC(".maps");

/* Scratch buffer for the scanned payload bytes (too big for the stack).
 * tc programs run with bottom halves disabled, so a per-CPU buffer cannot
 * be used by two invocations at once. Not pinned: private per load. */
struct hs_scratch {
	union {
		__u8 buf[HS_SCAN_BYTES];
		__u64 word[HS_SCAN_BYTES / 8];	/* whole loads, not 8 byte loads */
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

/* Does the pattern start at offset p of the scanned bytes, with p <= last
 * (the last offset it can start at)? The caller has found pattern[0] there.
 * A global function: the verifier checks it once, on its own, and not once
 * for every place of the scan that calls it. */
__noinline int hs_pattern_at(const struct hs_scratch *s,
			     const struct hs_config *cfg, __u32 p, __u32 last)
{
	if (!s || !cfg || p > last)
		return 0;
	for (__u32 j = 1; j < HS_MAX_PATTERN; j++) {
		if (j >= cfg->pattern_len)
			break;
		if (s->buf[(p + j) & (HS_SCAN_BYTES - 1)] != cfg->pattern[j])
			return 0;
	}
	return 1;
}

/* Does the payload at [off, off + len) contain the configured pattern?
 * Only the first HS_SCAN_BYTES bytes are looked at. */
static __always_inline int payload_matches(struct __sk_buff *skb, __u32 off,
					   __u32 len,
					   const struct hs_config *cfg)
{
	__u32 zero = 0;
	__u32 plen = cfg->pattern_len;
	struct hs_scratch *s;

	if (plen == 0 || plen > HS_MAX_PATTERN || len < plen)
		return 0;
	if (len > HS_SCAN_BYTES)
		len = HS_SCAN_BYTES;
	/* Still len, now 1..HS_SCAN_BYTES by arithmetic: older verifiers
	 * (Debian 12's 6.1) lose the bounds the compares above give, and
	 * reject the read into the scratch buffer as possibly 0 bytes. */
	len = ((len - 1) & (HS_SCAN_BYTES - 1)) + 1;
	s = bpf_map_lookup_elem(&hs_scratch, &zero);
	if (!s)
		return 0;
	/* Also reads paged (non-linear) data, e.g. of 64 KiB GSO packets. */
	if (bpf_skb_load_bytes(skb, off, s->buf, len) < 0)
		return 0;

	/* A word (8 bytes) at a time: v has a zero byte where the payload
	 * equals pattern[0], and hits has bit 7 set in each such byte (and
	 * perhaps in a byte above one: hs_pattern_at() sorts those out).
	 * Open-coded, this scan takes less than half the time of one through
	 * bpf_loop() with a callback per 16 bytes (measured), and the program
	 * verifies in a quarter of the steps. */
	const __u64 ones = 0x0101010101010101ULL;
	const __u64 first = cfg->pattern[0] * ones;
	__u32 last = len - plen;	/* last offset the pattern can start at */

	for (__u32 w = 0; w < HS_SCAN_BYTES; w += 8) {
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

static __always_inline struct hs_flow *flow_get(const struct hs_flow_key *key,
						__u64 now, __u64 timeout_ns)
{
	struct hs_flow *f = bpf_map_lookup_elem(&hs_flows, key);

	if (f) {
		if (now - f->last_seen_ns > timeout_ns) {
			/* Idle too long: a new flow with the same tuple. Racy
			 * against another CPU doing the same, which is benign. */
			ctr_add(HS_CTR_FLOWS_EXPIRED, 1);
			ctr_add(HS_CTR_FLOWS_CREATED, 1);
			f->state = HS_FLOW_NEW;
			f->packets = 0;
			f->bytes = 0;
			f->user = 0;
			f->last_seen_ns = now;
		} else if (now - f->last_seen_ns > 100000000ULL) {
			/* Refresh at most every 100 ms: fewer cache-line
			 * writes shared between CPUs. */
			f->last_seen_ns = now;
		}
		return f;
	}
	struct hs_flow nf = { .last_seen_ns = now };

	/* NOEXIST: if another CPU created it meanwhile, use that one. */
	if (bpf_map_update_elem(&hs_flows, key, &nf, BPF_NOEXIST) == 0)
		ctr_add(HS_CTR_FLOWS_CREATED, 1);
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
	struct hs_flow *flow;
	__u32 zero = 0, ihl, ip_len, l4_off, pay_off = 0, pay_len = 0;
	__u16 sport = 0, dport = 0;
	int verdict;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		ctr_add(HS_CTR_OTHER, 1);
		return TC_ACT_OK;
	}
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return TC_ACT_OK;
	ihl = (__u32)iph->ihl * 4;
	if (ihl < sizeof(*iph))
		return TC_ACT_OK;
	l4_off = sizeof(*eth) + ihl;
	/* tot_len is 0 for BIG TCP aggregates; use the skb length then. */
	ip_len = bpf_ntohs(iph->tot_len);
	if (ip_len == 0 || ip_len > skb->len - sizeof(*eth))
		ip_len = skb->len - sizeof(*eth);

	const struct hs_config *cfg = bpf_map_lookup_elem(&hs_config, &zero);

	if (!cfg)
		return TC_ACT_OK;

	ctr_add(HS_CTR_PACKETS, 1);
	ctr_add(HS_CTR_BYTES, ip_len);

	/* Ports and payload, unless this is a non-first fragment. */
	if (!(iph->frag_off & bpf_htons(0x1fff))) {
		void *l4 = (void *)iph + ihl;

		if (iph->protocol == IPPROTO_TCP) {
			struct tcphdr *th = l4;

			if ((void *)(th + 1) <= data_end) {
				__u32 doff = (__u32)th->doff * 4;

				sport = th->source;
				dport = th->dest;
				pay_off = l4_off + doff;
			}
		} else if (iph->protocol == IPPROTO_UDP) {
			struct udphdr *uh = l4;

			if ((void *)(uh + 1) <= data_end) {
				sport = uh->source;
				dport = uh->dest;
				pay_off = l4_off + sizeof(*uh);
			}
		}
		if (pay_off && pay_off < sizeof(*eth) + ip_len)
			pay_len = sizeof(*eth) + ip_len - pay_off;
	}

	if (iph->saddr < iph->daddr ||
	    (iph->saddr == iph->daddr && sport <= dport)) {
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
	__u64 now = bpf_ktime_get_coarse_ns();

	flow = flow_get(&key, now, timeout_s * 1000000000ULL);
	if (flow) {
		__sync_fetch_and_add(&flow->packets, 1);
		__sync_fetch_and_add(&flow->bytes, ip_len);
	}

	verdict = hs_policy_decide(skb, iph, l4_off, pay_off, pay_len, cfg, flow);
	ctr_add(verdict == TC_ACT_SHOT ? HS_CTR_DROPPED : HS_CTR_ACCEPTED, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
