// SPDX-License-Identifier: GPL-2.0-only
/*
 * network.c - BPF side of the Network Path Analyzer: NAPI polls and packet
 * arrivals per device and CPU, NET_RX/NET_TX softirq time, the time from a
 * packet's arrival in the stack to its copy into a reading thread's buffer,
 * drops by reason, and socket receive-queue overflows. Reads tracepoint
 * arguments only.
 *
 * Packet-to-thread latency without kprobes: net:netif_receive_skb stores
 * (skb address, time, CPU, device) in a slot of a fixed array chosen by
 * hashing the address; skb:skb_copy_datagram_iovec (TCP), in the reader's
 * recvmsg(), finds the slot by the same address. UDP: see sk_data_ready. The array never grows: a
 * slot reused before its packet was read is counted, not lost silently.
 *
 * The front end passes NET_IFACE_MATCH(w0, w1) for --interface: the device
 * name, zero-padded to 16 bytes, as two little-endian words.
 */
#include "latencyscope.h"
#include "ls_softirq.h"
#include "network.h"

#ifndef NET_IFACE_MATCH
#define NET_IFACE_MATCH(w0, w1) 1
#endif

BPF_PERCPU_ARRAY(net_counters, struct net_counters, 1);
BPF_PERCPU_ARRAY(net_soft, struct ls_softirq_clock, 1);
BPF_PERCPU_ARRAY(net_soft_hist, struct ls_hist, 2);	/* 0: NET_TX, 1: NET_RX */
BPF_PERCPU_ARRAY(net_delivery, struct ls_hist, 1);
BPF_PERCPU_ARRAY(net_zero, struct net_thread, 1);	/* zeroed template for inserts */
BPF_ARRAY(net_slots, struct net_slot, NET_SLOTS);
BPF_ARRAY(net_floor, u64, 1);	/* emit deliveries >= this (set by user space) */
BPF_PERCPU_ARRAY(net_reasons, u64, NET_NR_REASONS);
BPF_PERCPU_ARRAY(net_devs, struct net_devs, 1);
BPF_HASH(net_threads, u32, struct net_thread, 1024);
BPF_PERCPU_ARRAY(net_threads_fast, struct net_thread, NET_TFAST);	/* see network.h */
BPF_HASH(net_drops, struct net_drop_key, u64, 1024);
BPF_HASH(net_rcvq, u32, struct net_rcvq_val, 1024);
#if defined(LS_HAVE_TP_sock__sk_data_ready) && defined(LS_HAVE_TP_sock__sock_recv_length)
#define NET_UDP_BY_SOCKET 1	/* UDP delivery through the socket (see sk_data_ready) */
BPF_PERCPU_ARRAY(net_cur, u64, 1);	/* the packet (skb address) this CPU's stack handles now */
BPF_ARRAY(net_socks, struct net_sock, 1 << NET_SOCK_BITS);	/* by socket address */
#endif

union net_name {
	char	c[NET_DEV_LEN];
	u64	w[2];
};

static __always_inline struct net_counters *net_cnt(void)
{
	u32 zero = 0;

	return net_counters.lookup(&zero);
}

/* net_slot_of - the slot a packet address hashes to */
static __always_inline u32 net_slot_of(u64 skb)
{
	return ((u32)(skb >> 6) * 2654435761U) >> (32 - NET_SLOT_BITS);
}

/*
 * net_dev_get - the stats of a device on this CPU: a linear search of a
 * per-CPU array by the name's two words, a free slot claimed on first sight
 */
static __always_inline struct net_dev_val *net_dev_get(const union net_name *n)
{
	u32 zero = 0;
	struct net_devs *ds = net_devs.lookup(&zero);
	struct net_counters *c;

	if (!ds)
		return 0;
#pragma unroll
	for (int i = 0; i < NET_NDEVS; i++) {
		u64 *w = (u64 *)ds->d[i].dev;

		if (w[0] == n->w[0] && w[1] == n->w[1])
			return &ds->d[i];
		if (w[0] == 0) {
			w[0] = n->w[0];
			w[1] = n->w[1];
			return &ds->d[i];
		}
	}
	if ((c = net_cnt()))
		c->devs_full++;
	return 0;
}

TRACEPOINT_PROBE(net, netif_receive_skb)
{
	u32 cpu = bpf_get_smp_processor_id(), idx;
	u64 skb = (u64)args->skbaddr;
	union net_name n = {};
	struct net_dev_val *d;
	struct net_slot *sl;

	if (!ls_enabled())
		return 0;
	TP_DATA_LOC_READ_STR(n.c, name, NET_DEV_LEN);
	if (!NET_IFACE_MATCH(n.w[0], n.w[1]))
		return 0;
	if (LS_CPU_MATCH(cpu) && (d = net_dev_get(&n))) {
		d->packets++;
		d->bytes += args->len;
	}
	/* every CPU: the reader may run on a monitored CPU while the stack does not */
	idx = net_slot_of(skb);
	sl = net_slots.lookup(&idx);
	if (!sl)
		return 0;
	if (sl->skb && sl->skb != skb) {
		struct net_counters *c = net_cnt();

		if (c)
			c->overwritten++;
	}
	sl->skb = skb;
	sl->ts = bpf_ktime_get_ns();
	sl->len = args->len;
	sl->cpu = cpu;
	__builtin_memcpy(sl->dev, n.c, NET_DEV_LEN);
#ifdef NET_UDP_BY_SOCKET
	{
		u32 zero = 0;
		u64 *cur = net_cur.lookup(&zero);

		if (cur)
			*cur = skb;
	}
#endif
	return 0;
}

/* net_thread_fast - the thread's per-CPU array slot, claimed if free; NULL if another holds it */
static __always_inline struct net_thread *net_thread_fast(u32 tid, u32 tgid)
{
	u32 fi = tid & (NET_TFAST - 1);
	struct net_thread *t = net_threads_fast.lookup(&fi);

	if (!t || t->tid == tid)
		return t;
	if (t->tid)
		return 0;
	t->tid = tid;
	t->tgid = tgid;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
	return t;
}

/*
 * net_record - the current task took a packet that arrived at `ts` on
 * rx_cpu through dev into its buffer: its arrival-to-thread time
 */
static __always_inline void net_record(void *ctx, struct net_counters *c, u64 ts, u32 rx_cpu,
    const char *dev)
{
	u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), delay = now - ts, *floor;
	u32 tid = (u32)id, tgid = id >> 32, zero = 0, cpu = bpf_get_smp_processor_id();
	struct net_thread *t;
	struct ls_hist *h;

	if (now < ts || delay > NET_MAX_AGE_NS) {
		c->stale++;
		return;
	}
	h = net_delivery.lookup(&zero);
	if (h)
		ls_hist_add(h, delay);
	t = net_thread_fast(tid, tgid);
	if (!t)
		t = net_threads.lookup(&tid);
	if (!t) {
		struct net_thread *init = net_zero.lookup(&zero);

		if (init) {
			init->tgid = tgid;
			init->tid = tid;
			bpf_get_current_comm(init->comm, sizeof(init->comm));
			net_threads.insert(&tid, init);
			t = net_threads.lookup(&tid);
		}
		if (!t) {
			c->threads_full++;
			return;
		}
	}
	ls_hist_add(&t->h, delay);	/* a thread reads on one CPU at a time */
	t->last_rx_cpu = rx_cpu;
	if (rx_cpu != cpu)
		t->other_cpu++;
	floor = net_floor.lookup(&zero);
	if (floor && delay >= *floor) {
		struct net_event ev = {};

		ev.arrival = ts;
		ev.delay_ns = delay;
		ev.tid = tid;
		ev.tgid = tgid;
		ev.rx_cpu = rx_cpu;
		ev.cpu = cpu;
		__builtin_memcpy(ev.dev, dev, NET_DEV_LEN);
		bpf_get_current_comm(ev.comm, sizeof(ev.comm));
		ls_emit(ctx, &ev, sizeof(ev));
	}
}

/* net_reader - counters when the current task is a monitored reader on a monitored CPU */
static __always_inline struct net_counters *net_reader(void)
{
	u64 id = bpf_get_current_pid_tgid();

	if (!ls_enabled() || (u32)id == 0 || !LS_CPU_MATCH(bpf_get_smp_processor_id()) ||
	    !LS_MONITORED((u32)(id >> 32)))
		return 0;
	return net_cnt();
}

/* stream sockets (TCP) and datagrams copied in pieces: the copy names the skb */
TRACEPOINT_PROBE(skb, skb_copy_datagram_iovec)
{
	u64 skb = (u64)args->skbaddr;
	u32 idx = net_slot_of(skb);
	struct net_counters *c = net_reader();
	struct net_slot *sl;

	if (!c || !(sl = net_slots.lookup(&idx)) || sl->skb != skb)
		return 0;	/* not a packet seen arriving (local, unix socket, older) */
	/* a copy of fewer bytes than arrived (headers were pulled): the same packet */
	if (args->len < 0 || (u32)args->len >= sl->len) {
		c->unmatched_reads++;
		return 0;
	}
	sl->skb = 0;	/* read: later copies of the same packet are not new deliveries */
	net_record(args, c, sl->ts, sl->cpu, sl->dev);
	return 0;
}

/*
 * UDP copies a linear datagram without that tracepoint. Its arrival is
 * tied to the socket instead: sk_data_ready follows netif_receive_skb on
 * the same CPU in the same softirq, and the socket remembers its oldest
 * unread arrival; sock_recv_length, in the reader's recvmsg(), takes it
 * (datagrams are read in order). Arrivals while one is pending are not
 * sampled (counted). The kernel queues a datagram before it calls
 * sk_data_ready, so a reader on another CPU that had not gone to sleep can
 * take it in between: its read finds nothing pending and notes when it
 * read, and sk_data_ready, seeing a read of the socket after the arrival,
 * counts the datagram as read first instead of leaving it pending, where
 * the next read would take its time for its own.
 */
#ifdef NET_UDP_BY_SOCKET
#define NET_IPPROTO_UDP 17

/* net_sock_of - the slot of a socket address */
static __always_inline u32 net_sock_of(u64 sk)
{
	return ((u32)(sk >> 6) * 2654435761U) >> (32 - NET_SOCK_BITS);
}

TRACEPOINT_PROBE(sock, sk_data_ready)
{
	u64 sk = (u64)args->skaddr, now, *cur;
	u32 zero = 0, idx;
	struct net_counters *c;
	struct net_slot *sl;
	struct net_sock *so;

	if (args->protocol != NET_IPPROTO_UDP || !ls_enabled() || !(cur = net_cur.lookup(&zero)) ||
	    !*cur)
		return 0;
	idx = net_slot_of(*cur);
	sl = net_slots.lookup(&idx);
	if (!sl || sl->skb != *cur)
		return 0;
	sl->skb = 0;	/* the socket holds it now (its other fields stay readable) */
	*cur = 0;
	idx = net_sock_of(sk);
	so = net_socks.lookup(&idx);
	if (!so)
		return 0;
	now = sl->ts;	/* the arrival, microseconds ago in this softirq: no clock read */
	if (so->read_sk == sk && so->read_at >= now) {
		so->read_sk = 0;
		if ((c = net_cnt()))
			c->read_first++;
		return 0;
	}
	if (so->sk && (now < so->ts || now - so->ts < NET_MAX_AGE_NS)) {
		if ((c = net_cnt()))
			c->not_sampled++;	/* an older one is unread (or another socket has the slot) */
		return 0;
	}
	so->sk = sk;
	so->ts = sl->ts;
	so->cpu = sl->cpu;
	__builtin_memcpy(so->dev, sl->dev, NET_DEV_LEN);
	return 0;
}

/*
 * A raw tracepoint: it runs on every recvmsg() of every socket, and its
 * raw arguments (sk, ret, flags) are all it needs; the perf one would copy
 * them with the protocol for every call. Only a UDP socket that
 * sk_data_ready gave a packet matches its slot.
 */
RAW_TRACEPOINT_PROBE(sock_recv_length)
{
	u64 sk = ctx->args[0];
	u32 idx = net_sock_of(sk);
	int ret = (int)ctx->args[1], flags = (int)ctx->args[2];
	struct net_counters *c;
	struct net_sock *so;

	if (ret < 0 || (flags & 2 /* MSG_PEEK */) || !(so = net_socks.lookup(&idx)) ||
	    !(c = net_reader()))
		return 0;
	if (so->sk != sk) {
		so->read_sk = sk;	/* maybe a datagram sk_data_ready has not announced */
		so->read_at = bpf_ktime_get_ns();
		return 0;
	}
	so->sk = 0;
	net_record(ctx, c, so->ts, so->cpu, so->dev);
	return 0;
}
#endif

/*
 * Kernels without those two tracepoints (before 6.x: 5.10, 6.1): a UDP
 * datagram's reader frees it right after the copy, in its recvmsg()
 * (skb_consume_udp -> skb:consume_skb), so that free of a packet seen
 * arriving is its delivery. Other frees of received packets in a monitored
 * reader's context are rare (a forwarded packet freed after transmission).
 * A raw tracepoint: its first argument is the skb on every kernel.
 */
#if !defined(NET_UDP_BY_SOCKET) && defined(LS_HAVE_TP_skb__consume_skb)
RAW_TRACEPOINT_PROBE(consume_skb)
{
	u64 skb = ctx->args[0];
	u32 idx = net_slot_of(skb);
	struct net_counters *c;
	struct net_slot *sl;

	if (!(sl = net_slots.lookup(&idx)) || sl->skb != skb || !(c = net_reader()))
		return 0;
	sl->skb = 0;
	net_record(ctx, c, sl->ts, sl->cpu, sl->dev);
	return 0;
}
#endif

/*
 * A raw tracepoint: its arguments are (skb, location, reason[, rx_sk]) since
 * 5.17, and the plain one's format names an enum the headers may not have.
 * Older kernels refuse the third argument: drops are then not measured.
 */
#ifdef LS_HAVE_TP_skb__kfree_skb
RAW_TRACEPOINT_PROBE(kfree_skb)
{
	u64 skb = ctx->args[0], *n;
	u32 idx = net_slot_of(skb), reason = (u32)ctx->args[2];
	struct net_drop_key k = {};
	struct net_counters *c;
	struct net_slot *sl;

	if (!ls_enabled() || !LS_CPU_MATCH(bpf_get_smp_processor_id()) || !(c = net_cnt()))
		return 0;
	sl = net_slots.lookup(&idx);
	if (sl && sl->skb == skb) {
		__builtin_memcpy(k.dev, sl->dev, NET_DEV_LEN);
		sl->skb = 0;
	}
#ifdef NET_FILTERED
	if (!k.dev[0])
		return 0;	/* --interface: only drops of packets seen arriving there */
#endif
	c->drops++;
	if (reason < NET_NR_REASONS && (n = net_reasons.lookup(&reason)))
		(*n)++;
	k.reason = reason;
	n = net_drops.lookup(&k);
	if (!n) {
		u64 zero = 0;

		net_drops.insert(&k, &zero);
		n = net_drops.lookup(&k);
	}
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		c->drops_full++;
	return 0;
}
#endif

#ifdef LS_HAVE_TP_sock__sock_rcvqueue_full
TRACEPOINT_PROBE(sock, sock_rcvqueue_full)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct net_counters *c;
	struct net_rcvq_val *v;

	if (!ls_enabled() || !LS_CPU_MATCH(bpf_get_smp_processor_id()) || !(c = net_cnt()))
		return 0;
	c->rcvq_full++;
	v = net_rcvq.lookup(&tgid);
	if (!v) {
		struct net_rcvq_val init = {};

		bpf_get_current_comm(init.comm, sizeof(init.comm));
		net_rcvq.insert(&tgid, &init);
		v = net_rcvq.lookup(&tgid);
	}
	if (v)
		__sync_fetch_and_add(&v->count, 1);
	return 0;
}
#endif

#ifdef LS_HAVE_TP_napi__napi_poll
TRACEPOINT_PROBE(napi, napi_poll)
{
	u32 cpu = bpf_get_smp_processor_id();
	union net_name n = {};
	struct net_dev_val *d;

	if (!ls_enabled() || !LS_CPU_MATCH(cpu))
		return 0;
	TP_DATA_LOC_READ_STR(n.c, dev_name, NET_DEV_LEN);
	if (!NET_IFACE_MATCH(n.w[0], n.w[1]) || !(d = net_dev_get(&n)))
		return 0;
	d->polls++;	/* NAPI polls of a device on one CPU do not overlap */
	d->work += args->work;
	d->budget = args->budget;
	if (args->work >= args->budget)
		d->budget_exhausted++;
	return 0;
}
#endif

/* NET_TX / NET_RX softirq time on the monitored CPUs (the clock of ls_softirq.h) */
RAW_TRACEPOINT_PROBE(softirq_entry)
{
	u32 vec = (u32)ctx->args[0], zero = 0;
	struct ls_softirq_clock *sc;

	if ((vec != LS_SOFTIRQ_NET_TX && vec != LS_SOFTIRQ_NET_RX) || !ls_enabled() ||
	    !LS_CPU_MATCH(bpf_get_smp_processor_id()) || !(sc = net_soft.lookup(&zero)))
		return 0;
	ls_softirq_enter(sc, vec, bpf_ktime_get_ns());
	return 0;
}

RAW_TRACEPOINT_PROBE(softirq_exit)
{
	u32 vec = (u32)ctx->args[0], zero = 0, slot;
	struct ls_softirq_clock *sc;
	struct ls_hist *h;
	u64 d;

	if ((vec != LS_SOFTIRQ_NET_TX && vec != LS_SOFTIRQ_NET_RX) || !ls_enabled() ||
	    !LS_CPU_MATCH(bpf_get_smp_processor_id()) || !(sc = net_soft.lookup(&zero)))
		return 0;
	d = ls_softirq_exit(sc, vec, bpf_ktime_get_ns());
	slot = vec == LS_SOFTIRQ_NET_RX;
	if (d && (h = net_soft_hist.lookup(&slot)))
		ls_hist_add(h, d);
	return 0;
}
