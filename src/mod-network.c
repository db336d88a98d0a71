// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-network.c - the Network Path Analyzer, user side: NAPI and packets
 * per device and CPU, NET_RX/NET_TX softirq time, packet-to-thread delivery
 * latency per reading thread, drops by reason and device, receive-queue
 * overflows, and the host settings behind the recommendations.
 */

#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/libbpf.h>

#include "latencyscope.h"
#include "network.h"

#define NET_WORST 10

static const struct ls_threshold_def net_thresholds[] = {
	{ "network.delivery_p99_9", LS_T_NS, 100000,
	  "FAIL (with --pid; WARN without) when the P99.9 time from a packet's arrival in the "
	  "stack to its copy into the reading thread exceeds this" },
	{ "network.socket_drops", LS_T_COUNT, 0,
	  "FAIL (with --pid; WARN without) when more packets than this are dropped at a socket "
	  "(receive buffer full, socket filter, closed)" },
	{ NULL, 0, 0, NULL },
};

struct net_priv {
	char		*reasons[NET_NR_REASONS];	/* drop reason names */
};

/* the network module's options: --interface */
struct net_opts {
	char	*ifaces[LS_MAX_IFACES];
	int	 n;
};

/* net_opt_interface - a comma-separated list of device names (repeatable) */
static int net_opt_interface(void *opts, const char *arg, char *err, size_t errlen)
{
	struct net_opts *no = opts;
	char *copy, *save = NULL;
	size_t len = strlen(arg);
	int rc = 0;

	if (!len || arg[0] == ',' || arg[len - 1] == ',' || strstr(arg, ",,")) {
		snprintf(err, errlen, "bad --interface name '': give names like eth0,eth1 with no "
		    "empty entry");
		return -1;
	}
	copy = ls_xstrdup(arg);
	for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		if (strlen(t) >= 16 || strchr(t, '/')) {
			snprintf(err, errlen, "bad --interface name '%s': device names have 1 to 15 "
			    "characters and no '/' (see ip link)", t);
			rc = -1;
		} else if (no->n == LS_MAX_IFACES) {
			snprintf(err, errlen, "too many --interface names: at most %d", LS_MAX_IFACES);
			rc = -1;
		} else {
			no->ifaces[no->n++] = ls_xstrdup(t);
		}
	}
	free(copy);
	return rc;
}

static void net_opts_free(void *opts)
{
	struct net_opts *no = opts;

	for (int i = 0; i < no->n; i++)
		free(no->ifaces[i]);
}

static const struct ls_module_opt net_options[] = {
	{ "interface", "LIST", "only these devices, like eth0,eth1 (default:\nall; see ip link)",
	    net_opt_interface },
	{ NULL, NULL, NULL, NULL },
};

/* net_check - each --interface is a device of this network namespace, before any compile */
static int net_check(const struct ls_run *r, char *err, size_t errlen)
{
	const struct net_opts *no = ls_module_opts(r->opts, &ls_mod_network);

	return ls_preflight_interfaces(no->ifaces, no->n, err, errlen);
}

/* net_prepare - --interface as NET_IFACE_MATCH: each name as two little-endian words */
static int net_prepare(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	const struct net_opts *no = ls_module_opts(r->opts, p->ops);
	char *m = NULL;
	size_t len = 0;
	FILE *f;

	if (!no->n)
		return 0;
	f = open_memstream(&m, &len);
	if (!f)
		return -1;
	fprintf(f, "-DNET_IFACE_MATCH(w0,w1)=(0");
	for (int i = 0; i < no->n; i++) {
		uint64_t w[2] = { 0, 0 };

		memcpy(w, no->ifaces[i], strlen(no->ifaces[i]));	/* < 16 bytes */
		fprintf(f, "||((w0)==0x%llxULL&&(w1)==0x%llxULL)", (unsigned long long)w[0],
		    (unsigned long long)w[1]);
	}
	fprintf(f, ")");
	fclose(f);
	ls_probe_cflag(p, "%s", m);
	ls_probe_cflag(p, "-DNET_FILTERED=1");
	free(m);
	return 0;
}

/* drop_reason_names - the kernel's skb drop reasons, from kfree_skb's print format */
static void drop_reason_names(struct net_priv *np, const struct ls_run *r)
{
	char path[512], *fmt, *s;

	snprintf(path, sizeof(path), "%s/events/skb/kfree_skb/format", r->host->tracefs);
	fmt = ls_read_file(path, NULL);
	s = fmt ? strstr(fmt, "__print_symbolic") : NULL;
	while (s && (s = strchr(s, '{'))) {
		char name[64];
		int v;

		if (sscanf(s, "{ %d, \"%63[^\"]\" }", &v, name) == 2 && v >= 0 && v < NET_NR_REASONS &&
		    !np->reasons[v])
			np->reasons[v] = ls_xstrdup(name);
		s++;
	}
	free(fmt);
}

static int net_setup(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	struct net_priv *np = ls_xcalloc(1, sizeof(*np));

	p->priv = np;
	drop_reason_names(np, r);
	return ls_probe_set_u64(p, "net_floor", 1);
}

static const char *dev_name(char *buf, const char *dev);

static uint64_t net_key(const void *rec)
{
	return ((const struct net_event *)rec)->delay_ns;
}

/* net_record - a delivery as a timeline slice on the reader's track */
static bool net_record(struct ls_probe *p, const void *rec)
{
	const struct net_event *ev = rec;
	char comm[NET_COMM_LEN + 1], dev[NET_DEV_LEN + 1];

	ls_timeline_add(p, "packet delivery", dev_name(dev, ev->dev), ev->arrival, ev->delay_ns,
	    ev->cpu, ev->tid, ev->tgid, ls_comm(comm, ev->comm, NET_COMM_LEN));
	return true;
}

static const char *reason_name(const struct net_priv *np, uint32_t r, char *buf, size_t len)
{
	if (r < NET_NR_REASONS && np->reasons[r])
		return np->reasons[r];
	snprintf(buf, len, "reason_%u", r);
	return buf;
}

/* dev_name - a device name from a probe's fixed-size buffer */
static const char *dev_name(char *buf, const char *dev)
{
	memcpy(buf, dev, NET_DEV_LEN);
	buf[NET_DEV_LEN] = '\0';
	return buf;
}

struct dev_row {
	uint32_t	   cpu;
	struct net_dev_val v;
};

static int cmp_dev(const void *a, const void *b)
{
	const struct dev_row *x = a, *y = b;
	int c = strncmp(x->v.dev, y->v.dev, NET_DEV_LEN);

	return c ? c : (int)x->cpu - (int)y->cpu;
}

static void collect_devices(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "name", "DEVICE", 12 }, { "cpu", "CPU", 4 }, { "packets", "PACKETS", 9 },
		{ "bytes", "BYTES", 10 }, { "polls", "POLLS", 8 }, { "work", NULL, 0 },
		{ "budget", NULL, 0 }, { "budget_exhausted", "FULL POLLS", 10 },
	};
	struct ls_table *t = ls_section_table(s, "interfaces", "Packets and NAPI polls per device "
	    "and CPU", 8, cols);
	char name[NET_DEV_LEN + 1], noted[8][NET_DEV_LEN + 1];
	int ncpu = ls_nr_possible_cpus(), n = 0, nnoted = 0;
	struct net_devs *pc = ls_xcalloc(ncpu, sizeof(*pc));
	struct dev_row *rows = ls_xcalloc((size_t)ncpu * NET_NDEVS, sizeof(*rows));

	if (!pc || !rows || ls_probe_read_percpu(p, "net_devs", 0, pc, sizeof(*pc)) < 0)
		ncpu = 0;
	for (int c = 0; c < ncpu; c++) {
		for (int i = 0; i < NET_NDEVS && pc[c].d[i].dev[0]; i++) {
			if (!ls_cpuset_isset(&r->cpus, c))
				continue;
			rows[n].cpu = c;
			rows[n++].v = pc[c].d[i];
		}
	}
	free(pc);
	if (rows)
		qsort(rows, n, sizeof(*rows), cmp_dev);
	for (int i = 0; i < n; i++) {
		struct ls_value *row = ls_table_row(t);
		const struct net_dev_val *v = &rows[i].v;
		bool napi = v->polls > 0;

		dev_name(name, v->dev);
		if (!strcmp(name, "(no_device)"))	/* the per-CPU backlog's NAPI instance */
			snprintf(name, sizeof(name), "(backlog)");
		row[0] = ls_v_str(name);
		row[1] = ls_v_uint(rows[i].cpu, LS_F_PLAIN);
		row[2] = napi && !v->packets ? ls_v_null() : ls_v_uint(v->packets, LS_F_COUNT);
		row[3] = napi && !v->packets ? ls_v_null() : ls_v_uint(v->bytes, LS_F_COUNT);
		/* no poll at all: the device does not use NAPI here, nothing was measured */
		row[4] = napi ? ls_v_uint(v->polls, LS_F_COUNT) : ls_v_null();
		row[5] = napi ? ls_v_uint(v->work, LS_F_COUNT) : ls_v_null();
		row[6] = napi ? ls_v_uint(v->budget, LS_F_PLAIN) : ls_v_null();
		row[7] = napi ? ls_v_uint(v->budget_exhausted, LS_F_COUNT) : ls_v_null();
		if (!napi && v->packets && nnoted < 8) {
			int j;

			for (j = 0; j < nnoted && strcmp(noted[j], name); j++)
				;
			if (j == nnoted) {
				snprintf(noted[nnoted++], sizeof(noted[0]), "%s", name);
				ls_section_note(s, "%s: no NAPI polls (its packets reach the stack through "
				    "the per-CPU backlog, polled as \"(backlog)\"%s): NAPI not measured for it",
				    name, !strcmp(name, "lo") ? ", as loopback always does" : "");
			}
		}
	}
	free(rows);
}

static void merged_hist(const struct ls_probe *p, const char *table, uint32_t key,
    struct ls_section *s, const char *skey, const char *label)
{
	int ncpu = ls_nr_possible_cpus();
	struct ls_hist *h = ls_xcalloc(ncpu, sizeof(*h)), all;
	struct ls_summary sum;

	memset(&all, 0, sizeof(all));
	if (h && ls_probe_read_percpu(p, table, key, h, sizeof(*h)) == 0)
		for (int c = 0; c < ncpu; c++)
			ls_hist_merge(&all, &h[c]);
	free(h);
	ls_hist_summarize(&all, ls_probe_budget(p), &sum);
	ls_section_histo(s, skey, label, &sum, &all);
}

struct kv_thread {
	uint32_t	  tid;
	uint32_t	  pad;
	struct net_thread v;
};

static int cmp_thread(const void *a, const void *b)
{
	const struct kv_thread *x = a, *y = b;

	return x->v.h.count < y->v.h.count ? 1 : x->v.h.count > y->v.h.count ? -1 : 0;
}

/*
 * add_fast_threads - the per-CPU array slots of reading threads added to
 * their hash-map entries (a thread that read on several CPUs, or whose slot
 * was taken, has several)
 */
static struct kv_thread *add_fast_threads(const struct ls_probe *p, struct kv_thread *kv, int *n)
{
	int ncpu = ls_nr_possible_cpus();
	struct net_thread *fast = kv ? ls_xcalloc(ncpu, sizeof(*fast)) : NULL;

	for (uint32_t fi = 0; fast && fi < NET_TFAST; fi++) {
		if (ls_probe_read_percpu(p, "net_threads_fast", fi, fast, sizeof(*fast)) < 0)
			break;
		for (int c = 0; c < ncpu; c++) {
			const struct net_thread *f = &fast[c];
			int i;

			if (!f->tid)
				continue;
			for (i = 0; i < *n && kv[i].tid != f->tid; i++)
				;
			if (i == *n) {
				kv = ls_grow(kv, (*n)++, sizeof(*kv));
				memset(&kv[i], 0, sizeof(kv[i]));
				kv[i].tid = f->tid;
				kv[i].v.tgid = f->tgid;
				kv[i].v.tid = f->tid;
				memcpy(kv[i].v.comm, f->comm, sizeof(f->comm));
			}
			ls_hist_merge(&kv[i].v.h, &f->h);
			kv[i].v.other_cpu += f->other_cpu;
		}
	}
	free(fast);
	return kv;
}

static void collect_threads(struct ls_probe *p, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "tid", "TID", 7 }, { "pid", NULL, 0 }, { "comm", "COMM", 14 },
		{ "packets", "PACKETS", 9 }, { NULL, "P50", 9 }, { NULL, "P99", 9 }, { NULL, "MAX", 9 },
		{ "rx_cpu_mismatch", "OTHER CPU", 9 }, LS_SUMMARY_COLUMNS("delivery_ns"),
	};
	struct ls_table *t = ls_section_table(s, "per_thread", "Delivery per reading thread (arrival "
	    "in the stack to copy into its buffer)", 8 + LS_SUMMARY_NCOLS, cols);
	char comm[NET_COMM_LEN + 1];
	int n;
	struct kv_thread *kv = ls_probe_read_hash(p, "net_threads", sizeof(*kv),
	    offsetof(struct kv_thread, v), &n);

	kv = add_fast_threads(p, kv, &n);
	if (kv)
		qsort(kv, n, sizeof(*kv), cmp_thread);
	for (int i = 0; kv && i < n; i++) {
		struct ls_value *row = ls_table_row(t);
		struct ls_summary sum;

		ls_hist_summarize(&kv[i].v.h, ls_probe_budget(p), &sum);
		row[0] = ls_v_uint(kv[i].tid, LS_F_PLAIN);
		row[1] = ls_v_uint(kv[i].v.tgid, LS_F_PLAIN);
		row[2] = ls_v_str(ls_comm(comm, kv[i].v.comm, NET_COMM_LEN));
		row[3] = ls_v_uint(sum.count, LS_F_COUNT);
		row[4] = sum.pct_valid[0] ? ls_v_uint((uint64_t)sum.pct[0], LS_F_NS) : ls_v_str("n/a");
		row[5] = sum.pct_valid[2] ? ls_v_uint((uint64_t)sum.pct[2], LS_F_NS) : ls_v_str("n/a");
		row[6] = ls_v_uint(sum.max, LS_F_NS);
		row[7] = ls_v_uint(kv[i].v.other_cpu, LS_F_COUNT);
		ls_summary_cells(row + 8, &sum);
	}
	free(kv);
}

struct kv_drop {
	struct net_drop_key k;
	uint64_t	    v;
};

static int cmp_drop(const void *a, const void *b)
{
	const struct kv_drop *x = a, *y = b;

	return x->v < y->v ? 1 : x->v > y->v ? -1 : 0;
}

struct kv_rcvq {
	uint32_t	     tgid;
	uint32_t	     pad;
	struct net_rcvq_val  v;
};

static void collect_drops(struct ls_probe *p, struct ls_section *s)
{
	static const struct ls_column dcols[] = {
		{ "reason", "REASON", 24 }, { "device", "DEVICE", 12 }, { "count", "DROPS", 9 },
	};
	static const struct ls_column qcols[] = {
		{ "pid", "PID", 7 }, { "comm", "CONTEXT", 15 }, { "count", "OVERFLOWS", 9 },
	};
	struct net_priv *np = p->priv;
	struct ls_table *t = ls_section_table(s, "drops", "Packets dropped (skb:kfree_skb), by "
	    "reason and device", 3, dcols);
	char buf[32], name[NET_DEV_LEN + 1], comm[NET_COMM_LEN + 1];
	int n;
	struct kv_drop *kv = ls_probe_read_hash(p, "net_drops", sizeof(*kv), offsetof(struct kv_drop, v), &n);
	struct kv_rcvq *q;

	if (kv)
		qsort(kv, n, sizeof(*kv), cmp_drop);
	for (int i = 0; kv && i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_str(reason_name(np, kv[i].k.reason, buf, sizeof(buf)));
		row[1] = kv[i].k.dev[0] ? ls_v_str(dev_name(name, kv[i].k.dev)) : ls_v_null();
		row[2] = ls_v_uint(kv[i].v, LS_F_COUNT);
	}
	free(kv);
	t = ls_section_table(s, "rcvqueue_full", "Socket receive-queue overflows "
	    "(sock:sock_rcvqueue_full), by the task whose context ran the receive", 3, qcols);
	q = ls_probe_read_hash(p, "net_rcvq", sizeof(*q), offsetof(struct kv_rcvq, v), &n);
	for (int i = 0; q && i < n; i++) {
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_uint(q[i].tgid, LS_F_PLAIN);
		row[1] = ls_v_str(ls_comm(comm, q[i].v.comm, NET_COMM_LEN));
		row[2] = ls_v_uint(q[i].v.count, LS_F_COUNT);
	}
	free(q);
}

static void collect_worst(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	static const struct ls_column cols[] = {
		{ "time", NULL, 0 }, { NULL, "TIME (UTC)", 16 }, { "delay_ns", "DELAY", 9 },
		{ "comm", "READER", 12 }, { "tid", "TID", 7 }, { "pid", NULL, 0 },
		{ "device", "DEVICE", 8 }, { "rx_cpu", "RX CPU", 6 }, { "cpu", "READ CPU", 8 },
	};
	struct ls_table *t = ls_section_table(s, "worst", "Slowest deliveries", 9, cols);
	char when[64], comm[NET_COMM_LEN + 1], name[NET_DEV_LEN + 1];

	for (int i = 0; i < p->nworst; i++) {
		const struct net_event *e = &((const struct net_event *)p->worst)[i];
		struct ls_value *row = ls_table_row(t);

		ls_wallclock(r, e->arrival, when, sizeof(when));
		row[0] = ls_v_str(when);
		row[1] = ls_v_str(when + 11);
		row[2] = ls_v_uint(e->delay_ns, LS_F_NS);
		row[3] = ls_v_str(ls_comm(comm, e->comm, NET_COMM_LEN));
		row[4] = ls_v_uint(e->tid, LS_F_PLAIN);
		row[5] = ls_v_uint(e->tgid, LS_F_PLAIN);
		row[6] = ls_v_str(dev_name(name, e->dev));
		row[7] = ls_v_uint(e->rx_cpu, LS_F_PLAIN);
		row[8] = ls_v_uint(e->cpu, LS_F_PLAIN);
	}
}

static int net_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	struct net_counters c;

	if (ls_probe_sum_percpu(p, "net_counters", 0, &c, sizeof(c)) < 0)
		return -1;
	collect_devices(p, r, s);
	merged_hist(p, "net_soft_hist", 1, s, "softirq.net_rx_ns", "NET_RX softirq time");
	merged_hist(p, "net_soft_hist", 0, s, "softirq.net_tx_ns", "NET_TX softirq time");
	merged_hist(p, "net_delivery", 0, s, "delivery_ns", "Packet arrival to the reading thread");
	collect_threads(p, s);
	ls_section_metric(s, "drops_total", "Packets dropped", ls_v_uint(c.drops, LS_F_COUNT));
	ls_section_metric(s, "rcvqueue_full_total", NULL, ls_v_uint(c.rcvq_full, LS_F_COUNT));
	ls_section_metric(s, "correlation.overwritten", NULL, ls_v_uint(c.overwritten, LS_F_COUNT));
	ls_section_metric(s, "correlation.unmatched_reads", NULL, ls_v_uint(c.unmatched_reads, LS_F_COUNT));
	ls_section_metric(s, "correlation.stale", NULL, ls_v_uint(c.stale, LS_F_COUNT));
	ls_section_metric(s, "correlation.not_sampled", NULL, ls_v_uint(c.not_sampled, LS_F_COUNT));
	ls_section_metric(s, "correlation.read_first", NULL, ls_v_uint(c.read_first, LS_F_COUNT));
	collect_drops(p, s);
	collect_worst(p, r, s);
	if (c.overwritten)
		ls_section_note(s, "%llu arrivals left the %d-slot correlation table before a thread "
		    "read them (never read - acks, forwarded or dropped packets - or read later than "
		    "%d newer arrivals)", (unsigned long long)c.overwritten, NET_SLOTS, NET_SLOTS);
	if (c.not_sampled)
		ls_section_note(s, "%llu UDP datagrams arrived while an older one waited unread on "
		    "the same socket: not sampled (each socket tracks its oldest unread arrival)",
		    (unsigned long long)c.not_sampled);
	if (c.read_first)
		ls_section_note(s, "%llu UDP datagrams were read, by a reader on another CPU, before "
		    "the kernel announced them on their socket: not sampled",
		    (unsigned long long)c.read_first);
	if (c.stale)
		ls_section_note(s, "%llu reads matched an arrival older than 1 s: not counted as "
		    "deliveries", (unsigned long long)c.stale);
	if (c.threads_full || c.devs_full || c.drops_full)
		ls_section_note(s, "tables full: %llu deliveries, %llu packets of devices beyond %d per "
		    "CPU and %llu drops not itemised", (unsigned long long)c.threads_full, (unsigned long long)c.devs_full,
		    NET_NDEVS, (unsigned long long)c.drops_full);
	if (!ls_tracepoint_exists(r->host, "sock", "sk_data_ready") ||
	    !ls_tracepoint_exists(r->host, "sock", "sock_recv_length"))
		ls_section_note(s, "this kernel lacks sock:sk_data_ready or sock:sock_recv_length: a "
		    "UDP datagram's delivery ends when its reader frees it after the copy "
		    "(skb:consume_skb), a few hundred nanoseconds later");
	if (r->opts->npids)
		ls_section_note(s, "drops and receive-queue overflows cannot be tied to a process "
		    "from tracepoint arguments: they cover every socket on the monitored CPUs");
	return 0;
}

/* host_value - one line of a /proc or /sys file, "?" when unreadable */
static void host_value(const char *path, char *buf, size_t len)
{
	char *s = ls_read_file(path, NULL);

	snprintf(buf, len, "%s", s ? s : "?");
	buf[strcspn(buf, "\n")] = '\0';
	free(s);
}

static bool socket_reason(const char *reason)
{
	return strstr(reason, "SOCKET") || !strcmp(reason, "PROTO_MEM");
}

static void net_judge(struct ls_section *s, const struct ls_run *r)
{
	enum ls_level hard = r->opts->npids ? LS_FAIL : LS_WARN;
	const struct ls_table *dr = ls_section_find_table(s, "drops");
	const struct ls_table *th = ls_section_find_table(s, "per_thread");
	const struct ls_table *dv = ls_section_find_table(s, "interfaces");
	const struct ls_summary *del = ls_section_find_histo(s, "delivery_ns");
	uint64_t pmax = ls_threshold(&r->thresholds, "network.delivery_p99_9");
	uint64_t dmax = ls_threshold(&r->thresholds, "network.socket_drops");
	uint64_t sock_drops = ls_section_find_metric(s, "rcvqueue_full_total")->u, other = 0;
	char a[32], b[32], rmem[32], busy[32], budget[32], usecs[32], path[128];
	bool found = false;

	for (int i = 0; dr && i < dr->nrows; i++) {
		if (socket_reason(ls_table_cell(dr, i, "reason")->s))
			sock_drops += ls_table_cell(dr, i, "count")->u;
		else
			other += ls_table_cell(dr, i, "count")->u;
	}
	host_value("/proc/sys/net/core/rmem_max", rmem, sizeof(rmem));
	host_value("/proc/sys/net/core/busy_poll", busy, sizeof(busy));
	if (sock_drops > dmax) {
		char rec[512];

		snprintf(rec, sizeof(rec), "the reader falls behind: read in batches (recvmmsg) or "
		    "busy-poll (SO_BUSY_POLL; sysctl net.core.busy_poll=50, now %s), and give the "
		    "socket a larger buffer: setsockopt(SO_RCVBUF) up to net.core.rmem_max (now %s; "
		    "sysctl net.core.rmem_max=16777216)", busy, rmem);
		ls_section_finding(s, hard, rec, "%llu packets were dropped at a socket (buffer full, "
		    "filter or closed) (network.socket_drops %llu)", (unsigned long long)sock_drops,
		    (unsigned long long)dmax);
		found = true;
	}
	if (del && del->pct_valid[3] && del->pct[3] > (double)pmax) {
		ls_fmt_ns(a, sizeof(a), del->pct[3], r->opts->ascii);
		ls_fmt_ns(b, sizeof(b), (double)pmax, r->opts->ascii);
		ls_section_finding(s, hard, "keep the reader on its own CPU and spinning (busy-poll "
		    "the socket instead of blocking; SO_BUSY_POLL), and process its packets on that "
		    "CPU (see the cross-CPU findings)", "packets waited %s from arrival to the "
		    "reading thread at P99.9 (network.delivery_p99_9 %s)", a, b);
		found = true;
	} else if (del && del->count && !del->pct_valid[3]) {
		ls_section_note(s, "P99.9 delivery not judged: %llu samples (it needs 1000)",
		    (unsigned long long)del->count);
	}
	for (int i = 0; th && i < th->nrows; i++) {
		uint64_t mis = ls_table_cell(th, i, "rx_cpu_mismatch")->u;
		char rec[512];

		if (!mis)
			continue;
		snprintf(rec, sizeof(rec), "process the flow on the reader's CPU: enable RFS (sysctl "
		    "net.core.rps_sock_flow_entries=32768 and echo 2048 > /sys/class/net/DEV/queues/"
		    "rx-N/rps_flow_cnt), or point the NIC queue's IRQ at that CPU (echo CPU > "
		    "/proc/irq/IRQ/smp_affinity_list, see the irq module) and pin the reader there");
		ls_section_finding(s, LS_WARN, rec, "%llu of the %llu packets %s (tid %llu) read were "
		    "processed by the stack on another CPU (cache misses, an IPI per packet)",
		    (unsigned long long)mis, (unsigned long long)ls_table_cell(th, i, "packets")->u,
		    ls_table_cell(th, i, "comm")->s, (unsigned long long)ls_table_cell(th, i, "tid")->u);
		found = true;
		break;
	}
	host_value("/proc/sys/net/core/netdev_budget", budget, sizeof(budget));
	host_value("/proc/sys/net/core/netdev_budget_usecs", usecs, sizeof(usecs));
	for (int i = 0; dv && i < dv->nrows; i++) {
		const struct ls_value *full = ls_table_cell(dv, i, "budget_exhausted");
		const char *dev = ls_table_cell(dv, i, "name")->s;
		char rec[640], rps[64];

		if (full->type != LS_V_UINT || !full->u)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-0/rps_cpus", dev);
		host_value(path, rps, sizeof(rps));
		snprintf(rec, sizeof(rec), "spread or shrink the work per poll: more queues (ethtool "
		    "-L %s combined N), interrupt coalescing (ethtool -C %s adaptive-rx on), a larger "
		    "ring (ethtool -G %s rx 4096), a larger budget (sysctl net.core.netdev_budget=600, "
		    "now %s; netdev_budget_usecs now %s); rps_cpus of rx-0 is %s", dev, dev, dev,
		    budget, usecs, rps);
		ls_section_finding(s, LS_WARN, rec, "%s on CPU %llu used its whole NAPI budget in %llu "
		    "polls: packets were left for the next poll", dev,
		    (unsigned long long)ls_table_cell(dv, i, "cpu")->u, (unsigned long long)full->u);
		found = true;
	}
	if (other) {
		ls_section_finding(s, LS_WARN, "see the reasons below: NO_SOCKET is traffic to closed "
		    "ports, NETFILTER_DROP the firewall, *_CSUM corrupted packets; nstat -az shows the "
		    "matching counters", "%llu packets were dropped in the stack", (unsigned long long)other);
		found = true;
	}
	if (!found)
		ls_section_finding(s, LS_PASS, NULL, "no drops, NAPI budget exhaustion, cross-CPU "
		    "delivery or slow delivery above the thresholds");
}

static void net_cleanup(struct ls_probe *p)
{
	struct net_priv *np = p->priv;

	for (int i = 0; np && i < NET_NR_REASONS; i++)
		free(np->reasons[i]);
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout net_maps[] = {
	LS_MAP("net_counters", uint32_t, struct net_counters),
	LS_MAP("net_soft_hist", uint32_t, struct ls_hist),
	LS_MAP("net_delivery", uint32_t, struct ls_hist),
	LS_MAP("net_floor", uint32_t, uint64_t),
	LS_MAP("net_reasons", uint32_t, uint64_t),
	LS_MAP("net_devs", uint32_t, struct net_devs),
	LS_MAP("net_threads", uint32_t, struct net_thread),
	LS_MAP("net_threads_fast", uint32_t, struct net_thread),
	LS_MAP("net_drops", struct net_drop_key, uint64_t),
	LS_MAP("net_rcvq", uint32_t, struct net_rcvq_val),
	{ NULL, 0, 0 },
};

/* net_events - packets delivered to a reading thread so far, for the progress line */
static uint64_t net_events(struct ls_probe *p)
{
	struct ls_hist h;

	return ls_probe_sum_percpu(p, "net_delivery", 0, &h, sizeof(h)) < 0 ? 0 : h.count;
}

/* what --interval reports of this module (interval.c): totals over the interval */
static const struct ls_interval_table net_iv_tables[] = {
	{ "interfaces", "name,cpu", "packets,bytes,polls,work,budget_exhausted", NULL },
	{ "per_thread", "tid,pid,comm", "packets,rx_cpu_mismatch", NULL },
	{ "drops", "reason,device", "count", NULL },
	{ "rcvqueue_full", "pid,comm", "count", NULL },
	{ NULL, NULL, NULL, NULL },
};
/* the per-thread maps: with --interval, exited threads leave them (ls_probe_prune) */
static const struct ls_prune_map net_prune[] = {
	{ "net_threads", 0, false },	/* tid */
	{ "net_rcvq", 0, false },	/* tgid */
	{ NULL, 0, false },
};

static const struct ls_interval_spec net_interval = {
	.totals = "drops_total,rcvqueue_full_total,correlation.overwritten,correlation.unmatched_reads,"
	    "correlation.stale,correlation.not_sampled,correlation.read_first",
	.tables = net_iv_tables,
	.prune = net_prune,
};

const struct ls_module_ops ls_mod_network = {
	.name = "network",
	.title = "NETWORK PATH ANALYZER",
	.summary = "NAPI polls and packets per device, NET_RX/TX softirq time, packet-to-thread "
	    "latency, cross-CPU delivery, drops by reason",
	.thresholds = net_thresholds,
	.maps = net_maps,
	.options = net_options,
	.opts_size = sizeof(struct net_opts),
	.opts_free = net_opts_free,
	.check = net_check,
	.prepare = net_prepare,
	.setup = net_setup,
	.rec_size = sizeof(struct net_event),
	.record = net_record,
	.rec_key = net_key,
	.worst_n = NET_WORST,
	.floor_map = "net_floor",
	.collect = net_collect,
	.events = net_events,
	.judge = net_judge,
	.cleanup = net_cleanup,
	.interval = &net_interval,
};
