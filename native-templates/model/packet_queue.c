// SPDX-License-Identifier: MIT
/*
 * packet_queue.c - NFQUEUE plumbing for the HyperShield user-space model.
 * See packet_queue.h for the design. Nothing here is policy: the model's
 * logic lives in user_space_model.c (hs_policy_decide()).
 */
#define _GNU_SOURCE
#include "packet_queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Room per received message beyond the copied bytes: netlink and nfnetlink
 * headers plus all metadata attributes the kernel may add. */
#define HS_PQ_MSG_OVERHEAD 4096
/* Size of one verdict message: nlmsghdr + nfgenmsg + NFQA_VERDICT_HDR. */
#define HS_PQ_VERDICT_MSG_SIZE 64

static void set_err(char *err, size_t errlen, const char *fmt, const char *what,
		    uint16_t queue_num, int errnum)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, what, (unsigned int)queue_num,
			 strerror(errnum));
}

/* Wait for the kernel's answer to a request sent with NLM_F_ACK. Packets that
 * arrive meanwhile (the queue is live as soon as it is bound) are accepted at
 * once so nothing stays queued. Returns 0 or a negative errno. */
static int pq_wait_ack(struct hs_pq *q, uint32_t seq)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE + HS_PQ_MSG_OVERHEAD];

	for (;;) {
		ssize_t len = recv(q->fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;	/* includes EAGAIN: no answer in time */
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int rem = (int)len;

		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_seq == seq)
					return e->error; /* 0 = ack */
				continue;
			}
			if (nlh->nlmsg_type ==
			    ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
				struct nlattr *tb[NFQA_MAX + 1] = { 0 };
				char vbuf[HS_PQ_VERDICT_MSG_SIZE * 2];

				if (nfq_nlmsg_parse(nlh, tb) < 0 ||
				    !tb[NFQA_PACKET_HDR])
					continue;
				const struct nfqnl_msg_packet_hdr *ph =
					mnl_attr_get_payload(tb[NFQA_PACKET_HDR]);
				struct nlmsghdr *v = nfq_nlmsg_put(
					vbuf, NFQNL_MSG_VERDICT, q->cfg.queue_num);
				nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id),
						      NF_ACCEPT);
				q->last_id = ntohl(ph->packet_id);
				q->verdict_id = q->last_id;
				q->ctr.bypassed++;
				if (mnl_socket_sendto(q->nl, v, v->nlmsg_len) < 0)
					q->ctr.send_errors++;
			}
		}
	}
}

static int pq_config(struct hs_pq *q, uint8_t cmd, int full, uint32_t seq)
{
	char buf[512];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG,
					     q->cfg.queue_num);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, cmd);
	if (full) {
		/* One message carries everything: the kernel applies the bind
		 * command first, then copy mode, queue length and flags. */
		uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;

		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET,
					 (int)q->cfg.copy_range);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, q->cfg.queue_maxlen);
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	}
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return pq_wait_ack(q, seq);
}

int hs_pq_open(struct hs_pq *q, const struct hs_pq_config *cfg,
	       char *err, size_t errlen)
{
	int one = 1, rc;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->cfg = *cfg;
	if (q->cfg.burst == 0 || q->cfg.burst > HS_PQ_MAX_BURST)
		q->cfg.burst = HS_PQ_MAX_BURST;
	if (q->cfg.copy_range == 0 || q->cfg.copy_range > 0xffff)
		q->cfg.copy_range = 0xffff;

	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl) {
		set_err(err, errlen, "%s (queue %u): %s", "netlink socket",
			cfg->queue_num, errno);
		return -1;
	}
	q->fd = mnl_socket_get_fd(q->nl);
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		set_err(err, errlen, "%s (queue %u): %s", "netlink bind",
			cfg->queue_num, errno);
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);

	/* Big receive buffer; FORCE ignores rmem_max but needs CAP_NET_ADMIN. */
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &cfg->rcvbuf_bytes,
		       sizeof(cfg->rcvbuf_bytes)) < 0)
		(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF,
				 &cfg->rcvbuf_bytes, sizeof(cfg->rcvbuf_bytes));
	/* Do not report overruns as ENOBUFS errors; they are counted from
	 * gaps in packet ids instead (fail-open lets those packets pass). */
	(void)setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one,
			 sizeof(one));
	/* Ask the kernel to deliver extended ack messages on errors. */
	(void)setsockopt(q->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* recv() wakes up regularly so the thread can notice shutdown. */
	struct timeval tv = {
		.tv_sec = cfg->recv_timeout_ms / 1000,
		.tv_usec = (cfg->recv_timeout_ms % 1000) * 1000,
	};
	(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	rc = pq_config(q, NFQNL_CFG_CMD_BIND, 1, 1);
	if (rc < 0) {
		const char *hint = "";

		if (rc == -EPERM || rc == -EBUSY)
			hint = " (already bound by another process, or no CAP_NET_ADMIN)";
		if (err && errlen)
			snprintf(err, errlen, "cannot bind queue %u: %s%s",
				 (unsigned int)cfg->queue_num, strerror(-rc), hint);
		goto fail;
	}
	q->bound = 1;

	/* Receive buffers: one slot per message of a burst. */
	q->slot_size = ((size_t)q->cfg.copy_range + HS_PQ_MSG_OVERHEAD + 63) &
		       ~(size_t)63;
	q->rx = aligned_alloc(64, q->slot_size * q->cfg.burst);
	q->msgs = calloc(q->cfg.burst, sizeof(*q->msgs));
	q->iov = calloc(q->cfg.burst, sizeof(*q->iov));
	q->pkts = calloc(q->cfg.burst, sizeof(*q->pkts));
	q->tx_size = (size_t)HS_PQ_VERDICT_MSG_SIZE * (q->cfg.burst + 1);
	q->tx = aligned_alloc(64, q->tx_size);
	if (!q->rx || !q->msgs || !q->iov || !q->pkts || !q->tx) {
		set_err(err, errlen, "%s (queue %u): %s", "allocate buffers",
			cfg->queue_num, ENOMEM);
		goto fail;
	}
	for (unsigned int i = 0; i < q->cfg.burst; i++) {
		q->iov[i].iov_base = q->rx + i * q->slot_size;
		q->iov[i].iov_len = q->slot_size;
	}
	return 0;
fail:
	hs_pq_close(q);
	return -1;
}

/* Parse one NFQNL_MSG_PACKET into p. Returns 0, or -1 if it has no id.
 * Sample of what it reads (attributes after the nfgenmsg header):
 *   NFQA_PACKET_HDR {packet_id 7, hw_protocol 0x0800, hook 2}
 *   NFQA_IFINDEX_INDEV 3, NFQA_IFINDEX_OUTDEV 4, NFQA_CAP_LEN 65226,
 *   NFQA_PAYLOAD <the first copy_range bytes, from the IP header on> */
static int pq_parse_packet(const struct nlmsghdr *nlh, struct hs_pq_packet *p)
{
	const struct nlattr *attr;
	int have_hdr = 0;

	memset(p, 0, sizeof(*p));
	p->verdict = HS_VERDICT_ACCEPT;
	/* A hand-rolled loop instead of a validating parser: the kernel is the
	 * only sender (checked by the caller) and we read a few attributes. */
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(attr)) {
		case NFQA_PACKET_HDR: {
			const struct nfqnl_msg_packet_hdr *ph;

			if (mnl_attr_get_payload_len(attr) < sizeof(*ph))
				return -1;
			ph = mnl_attr_get_payload(attr);
			p->id = ntohl(ph->packet_id);
			p->hw_protocol = ntohs(ph->hw_protocol);
			p->hook = ph->hook;
			have_hdr = 1;
			break;
		}
		case NFQA_PAYLOAD:
			p->data = mnl_attr_get_payload(attr);
			p->data_len = mnl_attr_get_payload_len(attr);
			break;
		case NFQA_CAP_LEN:
			if (mnl_attr_get_payload_len(attr) >= 4)
				p->orig_len = ntohl(mnl_attr_get_u32(attr));
			break;
		case NFQA_IFINDEX_INDEV:
			if (mnl_attr_get_payload_len(attr) >= 4)
				p->indev = ntohl(mnl_attr_get_u32(attr));
			break;
		case NFQA_IFINDEX_OUTDEV:
			if (mnl_attr_get_payload_len(attr) >= 4)
				p->outdev = ntohl(mnl_attr_get_u32(attr));
			break;
		default:
			break;
		}
	}
	/* NFQA_CAP_LEN is only sent when the packet was truncated. */
	if (p->orig_len < p->data_len)
		p->orig_len = p->data_len;
	return have_hdr ? 0 : -1;
}

static void pq_note_id(struct hs_pq *q, uint32_t id)
{
	/* Ids are handed out one by one per queue, from 1 after the bind; a
	 * gap means the kernel could not deliver those packets to us and
	 * (fail-open) let them pass without inspection. Unsigned arithmetic
	 * handles wrap-around. */
	uint32_t gap = id - q->last_id - 1;

	if (gap != 0 && gap < 0x80000000u)
		q->ctr.bypassed += gap;
	q->last_id = id;
}

int hs_pq_recv_burst(struct hs_pq *q, int nonblock)
{
	struct sockaddr_nl src[HS_PQ_MAX_BURST];
	int n;

	q->npkts = 0;
	for (unsigned int i = 0; i < q->cfg.burst; i++) {
		struct msghdr *mh = &q->msgs[i].msg_hdr;

		mh->msg_name = &src[i];
		mh->msg_namelen = sizeof(src[i]);
		mh->msg_iov = &q->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		mh->msg_flags = 0;
	}
	/* Block for the first message only, then take what is already there. */
	n = recvmmsg(q->fd, q->msgs, q->cfg.burst,
		     nonblock ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
	if (n < 0) {
		switch (errno) {
		case EAGAIN:
		case EINTR:
			return 0;
		case ENOBUFS:
			q->ctr.enobufs++;
			return 0;
		default:
			q->ctr.recv_errors++;
			return -1;
		}
	}
	if (n > 0)
		q->ctr.batches++;

	for (int i = 0; i < n; i++) {
		const struct msghdr *mh = &q->msgs[i].msg_hdr;
		const struct nlmsghdr *nlh = q->iov[i].iov_base;
		int rem = (int)q->msgs[i].msg_len;

		if (src[i].nl_pid != 0)	/* not from the kernel: ignore */
			continue;
		if (mh->msg_flags & MSG_TRUNC) {
			/* Larger than a slot (should not happen with the
			 * overhead reserved). Its id is in the first attribute,
			 * so it still gets a verdict: accept it. */
			q->ctr.recv_errors++;
			if (rem >= (int)(NLMSG_HDRLEN + sizeof(struct nfgenmsg) +
					 MNL_ATTR_HDRLEN +
					 sizeof(struct nfqnl_msg_packet_hdr))) {
				const struct nlattr *a = (const struct nlattr *)
					((const uint8_t *)nlh + NLMSG_HDRLEN +
					 sizeof(struct nfgenmsg));
				if (mnl_attr_get_type(a) == NFQA_PACKET_HDR) {
					const struct nfqnl_msg_packet_hdr *ph =
						mnl_attr_get_payload(a);
					struct hs_pq_packet *p =
						&q->pkts[q->npkts++];
					memset(p, 0, sizeof(*p));
					p->id = ntohl(ph->packet_id);
					p->verdict = HS_VERDICT_ACCEPT;
					p->undecidable = 1;
					pq_note_id(q, p->id);
					q->ctr.bypassed++;
				}
			}
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type ==
			    ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
				struct hs_pq_packet *p = &q->pkts[q->npkts];

				if (q->npkts >= q->cfg.burst)
					break;	/* cannot happen: 1 per skb */
				if (pq_parse_packet(nlh, p) == 0) {
					pq_note_id(q, p->id);
					q->npkts++;
				} else {
					/* No id: nothing can answer it. The next
					 * batch does not cover it either (see
					 * hs_pq_send_verdicts()). */
					q->ctr.recv_errors++;
				}
			} else if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(nlh);
				if (e->error != 0)
					q->ctr.nl_errors++;
			}
		}
	}
	return (int)q->npkts;
}

static size_t pq_put_verdict(struct hs_pq *q, size_t off, int type,
			     uint32_t id, int verdict)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)q->tx + off, type,
					     q->cfg.queue_num);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	q->ctr.verdict_msgs++;
	return off + NLMSG_ALIGN(nlh->nlmsg_len);
}

int hs_pq_send_verdicts(struct hs_pq *q)
{
	size_t off = 0;
	unsigned int i = 0;

	if (q->npkts == 0)
		return 0;
	/* Packets are in id order. NFQNL_MSG_VERDICT_BATCH for id b applies
	 * to every queued packet with an id <= b, so a batch is only used for
	 * a run of consecutive ids [a..b] with a = verdict_id + 1: it then
	 * covers exactly the run. After a gap (packets that bypassed us, or a
	 * message without an id) the first packet gets a verdict of its own. */
	uint32_t done = q->verdict_id;

	while (i < q->npkts) {
		unsigned int j = i;
		int verdict = q->pkts[i].verdict ? NF_ACCEPT : NF_DROP;

		if (q->pkts[i].id != done + 1) {
			off = pq_put_verdict(q, off, NFQNL_MSG_VERDICT,
					     q->pkts[i].id, verdict);
			done = q->pkts[i].id;
			i++;
			continue;
		}
		while (j + 1 < q->npkts && q->pkts[j + 1].id == q->pkts[j].id + 1 &&
		       (q->pkts[j + 1].verdict ? NF_ACCEPT : NF_DROP) == verdict)
			j++;
		off = pq_put_verdict(q, off, NFQNL_MSG_VERDICT_BATCH,
				     q->pkts[j].id, verdict);
		done = q->pkts[j].id;
		i = j + 1;
	}
	/* All verdict messages of the burst in one system call. */
	for (;;) {
		ssize_t rc = mnl_socket_sendto(q->nl, q->tx, off);

		if (rc >= 0)
			break;
		if (errno == EINTR)
			continue;
		q->ctr.send_errors++;
		return -1;
	}
	q->ctr.verdict_sends++;
	q->verdict_id = done;
	q->npkts = 0;
	return 0;
}

void hs_pq_accept_rest(struct hs_pq *q)
{
	char buf[HS_PQ_VERDICT_MSG_SIZE * 2];
	struct hs_pq_kernel_stats ks;
	struct nlmsghdr *nlh;

	if (!q->nl || !q->bound)
		return;
	/* Every id within 2^31 after verdict_id counts as "not after" the
	 * batch id for the kernel: that is every packet still queued. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, q->cfg.queue_num);
	nfq_nlmsg_verdict_put(nlh, (int)(q->verdict_id + 0x7fffffffu), NF_ACCEPT);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		q->ctr.send_errors++;
		return;
	}
	if (hs_pq_kernel_stats(q->cfg.queue_num, &ks) == 0 &&
	    ks.id_sequence - q->last_id < 0x80000000u) {
		q->ctr.bypassed += ks.id_sequence - q->last_id;
		q->last_id = ks.id_sequence;
	}
}

void hs_pq_close(struct hs_pq *q)
{
	if (q->nl) {
		if (q->bound) {
			/* Unbind explicitly; packets still queued are dropped
			 * by the kernel (hs_pq_accept_rest() lets them pass
			 * first), new ones bypass (--queue-bypass). */
			struct timeval tv = { .tv_sec = 1 };

			(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					 sizeof(tv));
			(void)pq_config(q, NFQNL_CFG_CMD_UNBIND, 0, 2);
			q->bound = 0;
		}
		mnl_socket_close(q->nl);
		q->nl = NULL;
		q->fd = -1;
	}
	free(q->rx);
	free(q->msgs);
	free(q->iov);
	free(q->pkts);
	free(q->tx);
	q->rx = NULL;
	q->msgs = NULL;
	q->iov = NULL;
	q->pkts = NULL;
	q->tx = NULL;
}

int hs_pq_kernel_stats(uint16_t queue_num, struct hs_pq_kernel_stats *ks)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	char line[256];
	int rc = -1;

	if (!f)
		return -1;
	/* queue portid total copy_mode copy_range q_dropped u_dropped id_seq 1 */
	while (fgets(line, sizeof(line), f)) {
		unsigned int qn, portid, total, mode, range, qdrop, udrop, seq;

		if (sscanf(line, "%u %u %u %u %u %u %u %u", &qn, &portid, &total,
			   &mode, &range, &qdrop, &udrop, &seq) == 8 &&
		    qn == queue_num) {
			ks->queue_total = total;
			ks->queue_dropped = qdrop;
			ks->user_dropped = udrop;
			ks->id_sequence = seq;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}
