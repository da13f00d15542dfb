/* SPDX-License-Identifier: MIT */
/*
 * packet_queue.h - NFQUEUE plumbing for the HyperShield user-space model.
 *
 * One struct hs_pq is one netlink socket bound to one NFQUEUE queue number.
 * It is owned by exactly one thread; nothing in here is shared or locked.
 *
 * Fast-path design (each point matters for throughput, see README.md):
 *   - NFQA_CFG_F_GSO: the kernel hands us 64 KiB GSO/GRO aggregates instead
 *     of segmenting them into MTU-sized packets (about 40x fewer messages).
 *   - NFQA_CFG_F_FAIL_OPEN: if we fall behind, the kernel accepts instead of
 *     dropping. Packets that bypass us this way are detected from gaps in the
 *     kernel's packet ids and reported as "bypassed".
 *   - Copy range: only the first copy_range bytes of each packet (starting at
 *     the IP header) are copied to user space.
 *   - Large receive buffer (SO_RCVBUFFORCE) and NETLINK_NO_ENOBUFS.
 *   - recvmmsg(): up to HS_PQ_MAX_BURST packets per system call.
 *   - Verdicts: consecutive packets with the same verdict are answered with one
 *     NFQNL_MSG_VERDICT_BATCH message, and all verdict messages of a burst go
 *     to the kernel in a single sendmsg(). A batch never covers an id this
 *     side has not seen (it would give that packet someone else's verdict).
 */
#ifndef HS_PACKET_QUEUE_H
#define HS_PACKET_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifndef HS_PQ_MAX_BURST
#define HS_PQ_MAX_BURST 64	/* packets received per recvmmsg() */
#endif

/* Verdict values (same numbers as the kernel's NF_DROP / NF_ACCEPT). */
#define HS_VERDICT_DROP   0
#define HS_VERDICT_ACCEPT 1

struct hs_pq_config {
	uint16_t queue_num;	/* NFQUEUE number to bind */
	uint32_t copy_range;	/* bytes copied per packet, 1..65535 */
	uint32_t queue_maxlen;	/* kernel queue length (packets) */
	int rcvbuf_bytes;	/* socket receive buffer */
	unsigned int burst;	/* packets per recvmmsg(), 1..HS_PQ_MAX_BURST */
	int recv_timeout_ms;	/* recv blocks at most this long (for shutdown) */
};

/* One received packet, valid until the next hs_pq_recv_burst(). */
struct hs_pq_packet {
	uint32_t id;		/* kernel packet id (for the verdict) */
	uint16_t hw_protocol;	/* ETH_P_IP, ETH_P_IPV6 ... (host order) */
	uint8_t hook;		/* netfilter hook number */
	uint8_t verdict;	/* set by the caller: HS_VERDICT_* */
	uint8_t undecidable;	/* truncated message: no data, accept it */
	const uint8_t *data;	/* copied bytes, starting at the IP header */
	uint32_t data_len;	/* number of copied bytes (<= copy_range) */
	uint32_t orig_len;	/* full length of the packet (or GSO aggregate) */
	uint32_t indev;		/* input ifindex, 0 if unknown */
	uint32_t outdev;	/* output ifindex, 0 if unknown */
};

/* Counters kept by the queue layer (single writer: the owning thread). */
struct hs_pq_counters {
	uint64_t batches;		/* recvmmsg() calls that returned packets */
	uint64_t verdict_msgs;		/* verdict messages sent */
	uint64_t verdict_sends;		/* sendmsg() calls carrying verdicts */
	uint64_t enobufs;		/* ENOBUFS seen on receive */
	uint64_t recv_errors;		/* other receive errors, truncated messages */
	uint64_t send_errors;		/* failed verdict sends */
	uint64_t nl_errors;		/* NLMSG_ERROR replies from the kernel */
	uint64_t bypassed;		/* packets that passed without a decision:
					 * gaps in packet ids (fail-open when the
					 * socket buffer was full), packets left
					 * queued at shutdown, and messages we
					 * could not parse */
};

struct hs_pq {
	struct mnl_socket *nl;
	int fd;
	uint32_t portid;
	struct hs_pq_config cfg;
	int bound;
	uint32_t last_id;	/* last packet id seen, for gap detection */
	uint32_t verdict_id;	/* every id up to this one has its verdict */

	/* receive side */
	size_t slot_size;
	uint8_t *rx;			/* burst * slot_size bytes */
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct hs_pq_packet *pkts;	/* parsed packets of the current burst */
	unsigned int npkts;

	/* verdict side */
	uint8_t *tx;
	size_t tx_size;

	struct hs_pq_counters ctr;
};

/*
 * Open a netlink socket, bind it to cfg->queue_num and configure copy mode,
 * queue length and flags. Returns 0, or -1 with a message in err.
 */
int hs_pq_open(struct hs_pq *q, const struct hs_pq_config *cfg,
	       char *err, size_t errlen);

/*
 * Wait for packets (at most cfg.recv_timeout_ms; not at all if nonblock) and
 * parse them into q->pkts. Returns the number of packets (0 on timeout or
 * interruption), -1 on a fatal socket error (errno set). Every returned
 * packet has its verdict preset to HS_VERDICT_ACCEPT.
 */
int hs_pq_recv_burst(struct hs_pq *q, int nonblock);

/*
 * Send the verdicts of all packets of the current burst, batching runs of
 * equal verdicts. Returns 0, or -1 with errno set; the burst is then kept,
 * so calling it again retries the same verdicts.
 */
int hs_pq_send_verdicts(struct hs_pq *q);

/*
 * Shutdown: accept every packet still waiting in the kernel's queue (the
 * kernel would drop them on unbind), counting them as bypassed. Call after
 * the last burst's verdicts, before hs_pq_close().
 */
void hs_pq_accept_rest(struct hs_pq *q);

/* Unbind the queue (if bound), close the socket and free the buffers. */
void hs_pq_close(struct hs_pq *q);

/*
 * Counters the kernel keeps for this queue, read from
 * /proc/net/netfilter/nfnetlink_queue of the current network namespace.
 */
struct hs_pq_kernel_stats {
	uint32_t queue_total;	/* packets waiting for a verdict right now */
	uint32_t queue_dropped;	/* dropped because the queue was full */
	uint32_t user_dropped;	/* dropped because the socket buffer was full */
	uint32_t id_sequence;	/* last packet id handed out */
};

/* Fill ks for queue_num. Returns 0, or -1 if the queue is not listed. */
int hs_pq_kernel_stats(uint16_t queue_num, struct hs_pq_kernel_stats *ks);

#endif /* HS_PACKET_QUEUE_H */
