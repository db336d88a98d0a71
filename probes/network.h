/* SPDX-License-Identifier: GPL-2.0-only */
/* network.h - map layouts shared by probes/network.c and src/mod-network.c */
#ifndef LS_NETWORK_H
#define LS_NETWORK_H

#include "ls_hist.h"

#define NET_DEV_LEN	16	/* IFNAMSIZ */
#define NET_COMM_LEN	16
#define NET_SLOT_BITS	14
#define NET_SLOTS	(1 << NET_SLOT_BITS)	/* packets in flight between arrival and read */
#define NET_MAX_AGE_NS	1000000000ULL	/* older arrivals are not matched to a read */
#define NET_NR_REASONS	256	/* skb drop reasons counted per CPU */

#define NET_NDEVS	32	/* devices tracked per CPU */

/* net_dev_val - one device on one CPU (a slot of net_devs, claimed by name) */
struct net_dev_val {
	char	dev[NET_DEV_LEN];	/* zero: free */
	ls_u64	packets;	/* net:netif_receive_skb */
	ls_u64	bytes;
	ls_u64	polls;		/* napi:napi_poll */
	ls_u64	work;		/* packets the polls processed */
	ls_u64	budget_exhausted;	/* polls that used their whole budget */
	ls_u32	budget;		/* the last poll's budget */
	ls_u32	pad;
};

/* net_devs - this CPU's devices: a per-CPU array value, searched by name */
struct net_devs {
	struct net_dev_val d[NET_NDEVS];
};

/* net_sock - a UDP socket's oldest unread arrival (slot by socket address) */
struct net_sock {
	ls_u64	sk;		/* the socket whose oldest unread arrival this is; 0: none */
	ls_u64	ts;
	ls_u32	cpu;
	ls_u32	pad;
	char	dev[NET_DEV_LEN];
	ls_u64	read_sk;	/* a socket a monitored reader read with no arrival pending */
	ls_u64	read_at;	/* ... and when */
};
#define NET_SOCK_BITS	12

/* net_slot - a packet seen arriving, until a thread reads it (tagged by address) */
struct net_slot {
	ls_u64	skb;
	ls_u64	ts;
	ls_u32	len;
	ls_u32	cpu;	/* where the stack processed it */
	char	dev[NET_DEV_LEN];
};

/* net_thread - what one reading thread got */
struct net_thread {
	struct ls_hist h;	/* arrival to copy into the user's buffer, ns */
	ls_u64	other_cpu;	/* packets processed on another CPU than the one that read them */
	ls_u32	tgid;
	ls_u32	last_rx_cpu;
	ls_u32	tid;		/* the owner of a net_threads_fast slot (0: free) */
	ls_u32	pad;
	char	comm[NET_COMM_LEN];
};

/*
 * A reading thread's entry lives in a per-CPU array slot (tid % NET_TFAST,
 * kept by the first thread to read there on that CPU) or, when another
 * thread holds it, in the net_threads hash map: an array slot costs the
 * read ~80 ns less than the hash lookup. User space adds a thread's
 * entries up.
 */
#define NET_TFAST	8

struct net_counters {
	ls_u64	overwritten;	/* slots reused before a thread read their packet */
	ls_u64	unmatched_reads;	/* copies of more bytes than arrived at that address: another packet */
	ls_u64	stale;		/* arrivals older than NET_MAX_AGE_NS when read */
	ls_u64	not_sampled;	/* UDP arrivals while an older one was unread on the socket */
	ls_u64	read_first;	/* UDP datagrams read before their sk_data_ready fired */
	ls_u64	threads_full;
	ls_u64	devs_full;
	ls_u64	drops;		/* skb:kfree_skb */
	ls_u64	drops_full;
	ls_u64	rcvq_full;	/* sock:sock_rcvqueue_full */
};

/* net_drop_key - a drop reason on a device ("" when the packet was not seen arriving) */
struct net_drop_key {
	ls_u32	reason;
	ls_u32	pad;
	char	dev[NET_DEV_LEN];
};

/* net_rcvq_val - receive-queue overflows by the task whose context ran the receive */
struct net_rcvq_val {
	ls_u64	count;
	char	comm[NET_COMM_LEN];
};

/* net_event - one delivery at or above the floor */
struct net_event {
	ls_u64	arrival;	/* bpf_ktime_get_ns() at netif_receive_skb */
	ls_u64	delay_ns;
	ls_u32	tid;
	ls_u32	tgid;
	ls_u32	rx_cpu;
	ls_u32	cpu;
	char	dev[NET_DEV_LEN];
	char	comm[NET_COMM_LEN];
};

#endif /* LS_NETWORK_H */
