// SPDX-License-Identifier: GPL-2.0
/*
 * kernel_space.c - HyperShield security model as a netfilter kernel module.
 *
 * Same example policy as user_space_model.c and ebpf_model.c: a 5-tuple flow
 * table with idle expiry, and a payload byte pattern that drops (or only
 * counts) the packet and, with action=drop, blocks the whole flow. What the
 * policy sees and how the flow table behaves is the same in all three
 * templates (README.md, "One policy, three placements").
 *
 * - The hook sits on NF_INET_FORWARD (IPv4) of ONE network namespace: the
 *   one of the process that loads the module (insmod on the model host; in a
 *   VM, the guest's own). Other namespaces of the same kernel (a workstation
 *   that shares it with namespace or container hosts) are left alone: no
 *   hook, no table, no collector there. pernet_operations tell the module
 *   when its namespace goes away before it is unloaded.
 * - Flow table: hash buckets, each with its own spinlock for writers;
 *   readers (the hook) walk the chains under RCU. Entries are freed with
 *   kfree_rcu(), so a reader never touches freed memory. A periodic delayed
 *   work removes idle flows; max_flows caps the table. When
 *   it is full, new flows are refused (never evicted: a blocked flow stays
 *   blocked) and the collector is woken up at once.
 * - Nothing is printed per packet.
 *
 * Parameters (read-only once loaded; reload the module to change them):
 *   pattern=HEX        bytes to look for in the payload (default: none)
 *   action=drop|accept what a match does (default drop)
 *   flow_timeout=SEC   idle time after which a flow is forgotten (default 30)
 *   window=BYTES       payload bytes inspected per packet (default 256)
 *   max_flows=N        flows in the table (default 65536)
 *
 * Counters: cat /proc/net/hypershield in that namespace ("key value" lines).
 *
 * Build: make kernel KDIR=/lib/modules/<version>/build (see Makefile).
 *
 * YOUR LOGIC GOES INTO hs_policy_decide() below (search for "POLICY").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/ip.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/nsproxy.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/u64_stats_sync.h>
#include <linux/udp.h>
#include <linux/workqueue.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#define HS_MAX_PATTERN 64	/* bytes */
#define HS_MAX_WINDOW 1024	/* largest inspection window, payload bytes */
#define HS_BUCKETS 8192		/* hash buckets (power of 2) */
#define HS_GC_INTERVAL HZ	/* garbage collection period */
#define HS_HOOK_PRIORITY (NF_IP_PRI_FILTER - 1)	/* just before iptables */

/* ------------------------------------------------------------------------ */
/* Module parameters                                                         */
/* ------------------------------------------------------------------------ */

static char *pattern = "";
module_param(pattern, charp, 0444);
MODULE_PARM_DESC(pattern, "payload bytes to match, as hex (e.g. 485344524f50); empty: match nothing");

static char *action = "drop";
module_param(action, charp, 0444);
MODULE_PARM_DESC(action, "verdict for a matching packet and its flow: drop or accept");

static unsigned int flow_timeout = 30;
module_param(flow_timeout, uint, 0444);
MODULE_PARM_DESC(flow_timeout, "seconds of inactivity after which a flow is forgotten (1..86400)");

static unsigned int window = 256;
module_param(window, uint, 0444);
MODULE_PARM_DESC(window, "payload bytes inspected per packet (1..1024)");

static unsigned int max_flows = 65536;
module_param(max_flows, uint, 0444);
MODULE_PARM_DESC(max_flows, "maximum number of tracked flows per network namespace");

/* Parsed once at load time, read-only afterwards. */
static u8 hs_pattern[HS_MAX_PATTERN];
static unsigned int hs_pattern_len;
static bool hs_action_drop = true;
static unsigned long hs_timeout_jiffies;
static u32 hs_hash_seed __read_mostly;
static unsigned int hs_net_id __read_mostly;
/* The namespace the module serves (see the top); cleared when it exits. */
static struct net *hs_target;

/* ------------------------------------------------------------------------ */
/* Per-namespace state                                                       */
/* ------------------------------------------------------------------------ */

/* Direction-independent 5-tuple: the lower (address, port) pair first. */
struct hs_flow_key {
	__be32 addr_lo;
	__be32 addr_hi;
	__be16 port_lo;
	__be16 port_hi;
	u8 proto;
	u8 pad[3];		/* always zero: keys are compared with memcmp */
};

enum hs_flow_state {
	HS_FLOW_NEW = 0,
	HS_FLOW_MATCHED,	/* pattern seen, action accept */
	HS_FLOW_BLOCKED,	/* pattern seen, action drop */
};

struct hs_flow {
	struct hlist_node node;	/* in a bucket chain, RCU-protected */
	struct rcu_head rcu;
	struct hs_flow_key key;
	unsigned long last_seen;	/* jiffies; READ_ONCE/WRITE_ONCE */
	u8 state;		/* enum hs_flow_state; READ_ONCE/WRITE_ONCE */
	u8 user_u8[7];		/* free for your policy; zero when (re)started */
};

struct hs_bucket {
	spinlock_t lock;	/* serialises writers of this chain */
	struct hlist_head head;
};

/* Counters updated per packet, kept per CPU. */
struct hs_pcpu_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	u64_stats_t accepted;
	u64_stats_t dropped;
	u64_stats_t pattern_matches;
	u64_stats_t flows_created;
	u64_stats_t flows_table_full;
	struct u64_stats_sync syncp;
};

struct hs_net {
	struct hs_bucket *buckets;	/* HS_BUCKETS */
	atomic_t nflows;
	atomic64_t flows_expired;
	struct hs_pcpu_stats __percpu *stats;
	struct delayed_work gc_work;
	unsigned long last_full_gc;	/* jiffies of the last wake-up when full */
	struct net *net;
	bool hooks_registered;
};

static inline struct hs_net *hs_pernet(const struct net *net)
{
	return net_generic(net, hs_net_id);
}

/* ------------------------------------------------------------------------ */
/* Flow table                                                                */
/* ------------------------------------------------------------------------ */

static inline struct hs_bucket *hs_bucket_of(struct hs_net *hn, u32 hash)
{
	return &hn->buckets[hash & (HS_BUCKETS - 1)];
}

static inline u32 hs_hash(const struct hs_flow_key *key)
{
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), hs_hash_seed);
}

static inline bool hs_expired(const struct hs_flow *f, unsigned long now)
{
	return time_after(now, READ_ONCE(f->last_seen) + hs_timeout_jiffies);
}

static struct hs_flow *hs_chain_find(struct hs_bucket *b,
				     const struct hs_flow_key *key)
{
	struct hs_flow *f;

	/* Callers hold either rcu_read_lock() or b->lock. */
	hlist_for_each_entry_rcu(f, &b->head, node, lockdep_is_held(&b->lock)) {
		if (!memcmp(&f->key, key, sizeof(*key)))
			return f;
	}
	return NULL;
}

/*
 * Find or create the flow of key. Runs in the hook, under rcu_read_lock()
 * (held by the netfilter core). Returns NULL if the table is full or memory
 * is short: the packet is then decided without flow state.
 */
static struct hs_flow *hs_flow_get(struct hs_net *hn, struct hs_pcpu_stats *st,
				   const struct hs_flow_key *key,
				   unsigned long now)
{
	u32 hash = hs_hash(key);
	struct hs_bucket *b = hs_bucket_of(hn, hash);
	struct hs_flow *f, *nf;

	f = hs_chain_find(b, key);
	if (f) {
		unsigned long seen = READ_ONCE(f->last_seen);

		if (time_after(now, seen + hs_timeout_jiffies)) {
			/* Idle too long but not yet collected: restart it.
			 * Only the CPU that moves last_seen restarts it;
			 * memory stays valid against the collector thanks
			 * to RCU. */
			if (cmpxchg(&f->last_seen, seen, now) == seen) {
				WRITE_ONCE(f->state, HS_FLOW_NEW);
				memset(f->user_u8, 0, sizeof(f->user_u8));
				atomic64_inc(&hn->flows_expired);
				u64_stats_inc(&st->flows_created);
			}
		} else if (seen != now) {
			WRITE_ONCE(f->last_seen, now);
		}
		return f;
	}

	/* Reserve a slot first so the cap is never exceeded. */
	if ((unsigned int)atomic_inc_return(&hn->nflows) > max_flows) {
		unsigned long last = READ_ONCE(hn->last_full_gc);

		atomic_dec(&hn->nflows);
		u64_stats_inc(&st->flows_table_full);
		/* Collect idle flows now, not at the next period; at most
		 * ten times a second, like the other placements. */
		if (time_after(now, last + HZ / 10) &&
		    cmpxchg(&hn->last_full_gc, last, now) == last)
			mod_delayed_work(system_power_efficient_wq,
					 &hn->gc_work, 0);
		return NULL;
	}
	nf = kzalloc(sizeof(*nf), GFP_ATOMIC);
	if (!nf) {
		atomic_dec(&hn->nflows);
		u64_stats_inc(&st->flows_table_full);
		return NULL;
	}
	nf->key = *key;
	nf->last_seen = now;

	spin_lock_bh(&b->lock);
	f = hs_chain_find(b, key);	/* another CPU may have won the race */
	if (f) {
		spin_unlock_bh(&b->lock);
		kfree(nf);		/* never published: no RCU delay needed */
		atomic_dec(&hn->nflows);
		return f;
	}
	hlist_add_head_rcu(&nf->node, &b->head);
	spin_unlock_bh(&b->lock);
	u64_stats_inc(&st->flows_created);
	return nf;
}

/* Remove idle flows. Process context; also used on namespace exit. */
static void hs_flows_collect(struct hs_net *hn, bool all)
{
	unsigned long now = jiffies;
	unsigned int i;

	for (i = 0; i < HS_BUCKETS; i++) {
		struct hs_bucket *b = &hn->buckets[i];
		struct hs_flow *f;
		struct hlist_node *tmp;

		if (hlist_empty(&b->head))	/* racy peek, fine for GC */
			continue;
		spin_lock_bh(&b->lock);
		hlist_for_each_entry_safe(f, tmp, &b->head, node) {
			if (all || hs_expired(f, now)) {
				hlist_del_rcu(&f->node);
				kfree_rcu(f, rcu);
				atomic_dec(&hn->nflows);
				if (!all)
					atomic64_inc(&hn->flows_expired);
			}
		}
		spin_unlock_bh(&b->lock);
		if ((i & 255) == 255)
			cond_resched();
	}
}

static void hs_gc_work(struct work_struct *work)
{
	struct hs_net *hn = container_of(to_delayed_work(work), struct hs_net,
					 gc_work);

	hs_flows_collect(hn, false);
	queue_delayed_work(system_power_efficient_wq, &hn->gc_work,
			   HS_GC_INTERVAL);
}

/* ------------------------------------------------------------------------ */
/* Packet inspection                                                         */
/* ------------------------------------------------------------------------ */

/* Naive search; fine for HS_MAX_WINDOW x HS_MAX_PATTERN. */
static bool hs_contains(const u8 *hay, unsigned int hlen, const u8 *needle,
			unsigned int nlen)
{
	unsigned int i;

	if (nlen == 0 || hlen < nlen)
		return false;
	for (i = 0; i + nlen <= hlen; i++) {
		const u8 *p = memchr(hay + i, needle[0], hlen - nlen + 1 - i);

		if (!p)
			return false;
		i = p - hay;
		if (!memcmp(p, needle, nlen))
			return true;
	}
	return false;
}

/* Where the window is copied when it is not in the skb's linear part.
 * Hooks run with bottom halves disabled: one user per CPU at a time. */
static DEFINE_PER_CPU(u8 [HS_MAX_WINDOW], hs_window_buf);

/* Does the payload at [off, off + len) of skb contain the pattern? Only the
 * first `window` bytes are looked at; paged data is handled. */
static bool hs_payload_matches(const struct sk_buff *skb, unsigned int off,
			       unsigned int len)
{
	const u8 *p;

	len = min_t(unsigned int, len, window);
	if (!hs_pattern_len || len < hs_pattern_len)
		return false;
	p = skb_header_pointer(skb, off, len, this_cpu_ptr(&hs_window_buf));
	return p && hs_contains(p, len, hs_pattern, hs_pattern_len);
}

/* ======================================================================== */
/*                                                                          */
/*   POLICY: put your own logic here.                                       */
/*                                                                          */
/*   Called for every forwarded IPv4 packet, in softirq context, under      */
/*   rcu_read_lock(). Return NF_ACCEPT or NF_DROP.                          */
/*                                                                          */
/*   skb      the packet; skb->data is at the IP header. It may be a 64 KiB */
/*            GSO aggregate with paged data: read with skb_header_pointer().*/
/*   iph      its IP header.                                                */
/*   pay_off  payload offset from the IP header, pay_len its length         */
/*            (0/0 for protocols other than TCP and UDP).                   */
/*   flow     this connection's entry (both directions), or NULL. Other     */
/*            CPUs may use the same flow at the same time: use READ_ONCE/   */
/*            WRITE_ONCE or atomics for its fields.                         */
/*   st       this CPU's counters (u64_stats_inc(&st->...)).                */
/*                                                                          */
/*   Rules: no sleeping, no printk per packet (use net_ratelimit()), no     */
/*   big stack buffers (the kernel stack is small), GFP_ATOMIC only.        */
/*                                                                          */
/*   Example policy: pattern found -> count; with action=drop, drop the     */
/*   packet and block the flow until it is idle for flow_timeout seconds.   */
/*                                                                          */
/* ======================================================================== */
static unsigned int hs_policy_decide(const struct sk_buff *skb,
				     const struct iphdr *iph,
				     unsigned int pay_off, unsigned int pay_len,
				     struct hs_flow *flow,
				     struct hs_pcpu_stats *st)
{
	if (flow && READ_ONCE(flow->state) == HS_FLOW_BLOCKED)
		return NF_DROP;

	if (hs_payload_matches(skb, pay_off, pay_len)) {
		u64_stats_inc(&st->pattern_matches);
		if (hs_action_drop) {
			if (flow)
				WRITE_ONCE(flow->state, HS_FLOW_BLOCKED);
			return NF_DROP;
		}
		if (flow)
			WRITE_ONCE(flow->state, HS_FLOW_MATCHED);
	}
	return NF_ACCEPT;
}
/* ======================================================================== */
/*   END OF POLICY                                                          */
/* ======================================================================== */

static unsigned int hs_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct hs_net *hn = hs_pernet(state->net);
	struct hs_pcpu_stats *st;
	const struct iphdr *iph;
	struct hs_flow_key key = {};
	struct hs_flow *flow = NULL;
	unsigned int ihl, ip_len, pay_off = 0, pay_len = 0, verdict;
	__be16 sport = 0, dport = 0;
	bool ports = true;

	if (unlikely(!hn->stats))
		return NF_ACCEPT;
	iph = ip_hdr(skb);	/* linear and validated by ip_rcv() */
	ihl = iph->ihl * 4;
	ip_len = skb->len;	/* whole packet, GSO aggregates included */

	/* Ports and payload. Non-first fragments have neither, and neither
	 * have TCP/UDP headers that do not fit the packet (or a TCP data
	 * offset below 5 words): such packets pass without a flow. */
	if (iph->frag_off & htons(IP_OFFSET)) {
		ports = false;
	} else if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr _th;
		const struct tcphdr *th;

		th = skb_header_pointer(skb, ihl, sizeof(_th), &_th);
		if (!th || th->doff < 5 || ihl + th->doff * 4 > ip_len) {
			ports = false;
		} else {
			sport = th->source;
			dport = th->dest;
			pay_off = ihl + th->doff * 4;
		}
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr _uh;
		const struct udphdr *uh;

		uh = skb_header_pointer(skb, ihl, sizeof(_uh), &_uh);
		if (!uh) {
			ports = false;
		} else {
			sport = uh->source;
			dport = uh->dest;
			pay_off = ihl + sizeof(*uh);
		}
	}
	if (pay_off)
		pay_len = ip_len - pay_off;

	/* Hooks on the receive path run with bottom halves disabled, so this
	 * CPU's counters cannot be updated concurrently. */
	st = this_cpu_ptr(hn->stats);
	u64_stats_update_begin(&st->syncp);
	u64_stats_inc(&st->packets);
	u64_stats_add(&st->bytes, ip_len);
	if (!ports) {
		u64_stats_inc(&st->accepted);
		u64_stats_update_end(&st->syncp);
		return NF_ACCEPT;
	}

	if (ntohl(iph->saddr) < ntohl(iph->daddr) ||
	    (iph->saddr == iph->daddr && ntohs(sport) <= ntohs(dport))) {
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

	flow = hs_flow_get(hn, st, &key, jiffies);
	verdict = hs_policy_decide(skb, iph, pay_off, pay_len, flow, st);
	if (verdict == NF_DROP)
		u64_stats_inc(&st->dropped);
	else
		u64_stats_inc(&st->accepted);
	u64_stats_update_end(&st->syncp);
	return verdict;
}

static const struct nf_hook_ops hs_nf_ops[] = {
	{
		.hook = hs_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_FORWARD,
		.priority = HS_HOOK_PRIORITY,
	},
};

/* ------------------------------------------------------------------------ */
/* /proc/net/hypershield                                                     */
/* ------------------------------------------------------------------------ */

static int hs_proc_show(struct seq_file *seq, void *v)
{
	struct hs_net *hn = hs_pernet(seq_file_single_net(seq));
	u64 packets = 0, bytes = 0, accepted = 0, dropped = 0, matches = 0;
	u64 created = 0, full = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct hs_pcpu_stats *st = per_cpu_ptr(hn->stats, cpu);
		u64 p, b, a, d, m, c, f;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			p = u64_stats_read(&st->packets);
			b = u64_stats_read(&st->bytes);
			a = u64_stats_read(&st->accepted);
			d = u64_stats_read(&st->dropped);
			m = u64_stats_read(&st->pattern_matches);
			c = u64_stats_read(&st->flows_created);
			f = u64_stats_read(&st->flows_table_full);
		} while (u64_stats_fetch_retry(&st->syncp, start));
		packets += p;
		bytes += b;
		accepted += a;
		dropped += d;
		matches += m;
		created += c;
		full += f;
	}
	/* One "key value" pair per line; names match the user-space model's
	 * stats file and the eBPF model's counters. */
	seq_printf(seq, "packets %llu\n", packets);
	seq_printf(seq, "bytes %llu\n", bytes);
	seq_printf(seq, "accepted %llu\n", accepted);
	seq_printf(seq, "dropped %llu\n", dropped);
	seq_printf(seq, "pattern_matches %llu\n", matches);
	seq_printf(seq, "flows_active %d\n", atomic_read(&hn->nflows));
	seq_printf(seq, "flows_created %llu\n", created);
	seq_printf(seq, "flows_expired %lld\n",
		   (long long)atomic64_read(&hn->flows_expired));
	seq_printf(seq, "flows_table_full %llu\n", full);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Namespace setup and teardown                                              */
/* ------------------------------------------------------------------------ */

static void hs_net_free(struct hs_net *hn)
{
	if (hn->buckets) {
		hs_flows_collect(hn, true);
		kvfree(hn->buckets);
		hn->buckets = NULL;
	}
	free_percpu(hn->stats);
	hn->stats = NULL;
}

static int __net_init hs_net_init(struct net *net)
{
	struct hs_net *hn = hs_pernet(net);
	unsigned int i;
	int cpu, err;

	if (net != hs_target)
		return 0;	/* another namespace of this kernel: not ours */
	hn->net = net;
	atomic_set(&hn->nflows, 0);
	atomic64_set(&hn->flows_expired, 0);
	INIT_DELAYED_WORK(&hn->gc_work, hs_gc_work);

	hn->buckets = kvcalloc(HS_BUCKETS, sizeof(*hn->buckets), GFP_KERNEL);
	hn->stats = alloc_percpu(struct hs_pcpu_stats);
	if (!hn->buckets || !hn->stats) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < HS_BUCKETS; i++) {
		spin_lock_init(&hn->buckets[i].lock);
		INIT_HLIST_HEAD(&hn->buckets[i].head);
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(hn->stats, cpu)->syncp);

	if (!proc_create_net_single("hypershield", 0444, net->proc_net,
				    hs_proc_show, NULL)) {
		err = -ENOMEM;
		goto fail;
	}
	err = nf_register_net_hooks(net, hs_nf_ops, ARRAY_SIZE(hs_nf_ops));
	if (err) {
		remove_proc_entry("hypershield", net->proc_net);
		goto fail;
	}
	hn->hooks_registered = true;
	queue_delayed_work(system_power_efficient_wq, &hn->gc_work,
			   HS_GC_INTERVAL);
	return 0;
fail:
	hs_net_free(hn);
	return err;
}

static void __net_exit hs_net_exit(struct net *net)
{
	struct hs_net *hn = hs_pernet(net);

	if (net == hs_target)
		hs_target = NULL;	/* its address may serve a new namespace */
	if (!hn->hooks_registered)
		return;		/* not ours, or init failed and cleaned up */
	/* 1. No new packets: unregistering waits for running hooks. */
	nf_unregister_net_hooks(net, hs_nf_ops, ARRAY_SIZE(hs_nf_ops));
	hn->hooks_registered = false;
	/* 2. Stop the collector (it re-arms itself; this handles that). */
	cancel_delayed_work_sync(&hn->gc_work);
	/* 3. Counters file, then memory. */
	remove_proc_entry("hypershield", net->proc_net);
	hs_net_free(hn);
}

static struct pernet_operations hs_net_ops = {
	.init = hs_net_init,
	.exit = hs_net_exit,
	.id = &hs_net_id,
	.size = sizeof(struct hs_net),
};

/* ------------------------------------------------------------------------ */
/* Module load / unload                                                      */
/* ------------------------------------------------------------------------ */

static int __init hs_parse_params(void)
{
	const char *hex = pattern ? pattern : "";
	size_t n;
	int err;

	/* Work on a local pointer: the parameter string itself must stay
	 * untouched (it is shown in sysfs and freed on unload). */
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n % 2 || n / 2 > HS_MAX_PATTERN) {
		pr_err("pattern: expected an even number of hex digits, at most %d bytes\n",
		       HS_MAX_PATTERN);
		return -EINVAL;
	}
	err = hex2bin(hs_pattern, hex, n / 2);
	if (err) {
		pr_err("pattern: not a hex string\n");
		return -EINVAL;
	}
	hs_pattern_len = n / 2;

	if (action && sysfs_streq(action, "drop")) {
		hs_action_drop = true;
	} else if (action && sysfs_streq(action, "accept")) {
		hs_action_drop = false;
	} else {
		pr_err("action: expected drop or accept\n");
		return -EINVAL;
	}
	if (flow_timeout < 1 || flow_timeout > 86400) {
		pr_err("flow_timeout: expected 1..86400 seconds\n");
		return -EINVAL;
	}
	hs_timeout_jiffies = (unsigned long)flow_timeout * HZ;
	if (window < 1 || window > HS_MAX_WINDOW) {
		pr_err("window: expected 1..%d bytes\n", HS_MAX_WINDOW);
		return -EINVAL;
	}
	if (max_flows < 1) {
		pr_err("max_flows: expected at least 1\n");
		return -EINVAL;
	}
	return 0;
}

static int __init hs_init(void)
{
	int err = hs_parse_params();

	if (err)
		return err;
	hs_hash_seed = get_random_u32();
	hs_target = current->nsproxy->net_ns;
	err = register_pernet_subsys(&hs_net_ops);
	if (err)
		return err;
	pr_info("loaded: pattern %u bytes, action %s, flow_timeout %us, window %u, max_flows %u\n",
		hs_pattern_len, hs_action_drop ? "drop" : "accept", flow_timeout,
		window, max_flows);
	return 0;
}

static void __exit hs_exit(void)
{
	/* Runs hs_net_exit() for every namespace (only ours has anything). */
	unregister_pernet_subsys(&hs_net_ops);
	/* Let the kfree_rcu() of the last flows complete, so all memory is
	 * back when the unload returns. */
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(hs_init);
module_exit(hs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("HyperShield example security model (netfilter, in the namespace that loads it)");
