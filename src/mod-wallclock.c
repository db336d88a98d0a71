// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-wallclock.c - the wall-clock profiler, user side: stacks of the
 * monitored threads while running (cpu-clock samples) and while blocked
 * (sched_switch), symbolized with libbcc's symbolizer, merged into one
 * profile in nanoseconds of wall-clock time: the box report shows each
 * thread's on/off-CPU split and top stacks, the profile formats the rest.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>
#include <jansson.h>

#include "latencyscope.h"
#include "wallclock.h"

#define WC_MAX_PROCS 4096

/* a file mapped executable, from /proc/PID/maps: pprof's mappings */
struct wc_vma {
	uint64_t start, end, off;
	char	*path;
	const struct ls_profile *pf;	/* the profile map indexes, NULL until a frame uses it */
	int	 map;
};

struct wc_proc {
	uint32_t pid;
	void	*syms;	/* bcc symcache, made while the process lived */
	char	*exe;	/* /proc/PID/exe, read then too */
	int	 nvmas;
	struct wc_vma *vmas;
};

struct wc_priv {
	char		 states[WC_NR_STATES][8];	/* names: "running", "R+", "S", ... */
	void		*ksyms;
	int		 nprocs;
	struct wc_proc	 procs[WC_MAX_PROCS];
	uint64_t	 last_scan_ns;
};

static const struct ls_threshold_def wc_thresholds[] = {
	{ NULL, 0, 0, NULL },
};

/* state_names - enum wc_state names, from sched_switch's own print format */
static void state_names(struct wc_priv *wp, const struct ls_run *r)
{
	char path[512], *fmt, *s;

	snprintf(wp->states[WC_ST_RUNNING], 8, "running");
	snprintf(wp->states[WC_ST_PREEMPTED], 8, "R+");
	snprintf(wp->states[WC_ST_RUNNABLE], 8, "R");
	for (int i = 0; i < 8; i++)
		snprintf(wp->states[WC_ST_BIT0 + i], 8, "0x%x", 1 << i);
	snprintf(path, sizeof(path), "%s/events/sched/sched_switch/format", r->host->tracefs);
	fmt = ls_read_file(path, NULL);
	s = fmt ? strstr(fmt, "__print_flags") : NULL;
	while (s && (s = strchr(s, '{'))) {
		unsigned v;
		char name[8];

		if (sscanf(s, "{ 0x%x, \"%7[^\"]\" }", &v, name) == 2 && v && !(v & (v - 1))) {
			int bit = __builtin_ctz(v);

			if (bit < 8)
				snprintf(wp->states[WC_ST_BIT0 + bit], 8, "%s", name);
		}
		s++;
	}
	free(fmt);
}

/* the wallclock module's options */
struct wc_opts {
	unsigned	 frequency;	/* on-CPU samples per second per CPU */
	uint64_t	 min_block_ns;	/* shorter off-CPU blocks are left out */
	char		*states;	/* off-CPU task states to keep ("S,D"), NULL: all */
};

static void wc_opts_init(void *opts)
{
	struct wc_opts *wo = opts;

	wo->frequency = 99;
	wo->min_block_ns = 1000;
}

static void wc_opts_free(void *opts)
{
	free(((struct wc_opts *)opts)->states);
}

static int wc_opt_frequency(void *opts, const char *arg, char *err, size_t errlen)
{
	char *end;
	unsigned long hz;

	errno = 0;
	hz = strtoul(arg, &end, 10);
	if (end == arg || *end || errno || hz < 1 || hz > 10000 || arg[0] == '-') {
		snprintf(err, errlen, "invalid --frequency '%s': give samples per second from 1 to "
		    "10000, like 99", arg);
		return -1;
	}
	((struct wc_opts *)opts)->frequency = (unsigned)hz;
	return 0;
}

static int wc_opt_min_block(void *opts, const char *arg, char *err, size_t errlen)
{
	return ls_parse_duration_ns(arg, &((struct wc_opts *)opts)->min_block_ns, err, errlen);
}

/* wc_opt_state - task state letters as sched_switch prints them */
static int wc_opt_state(void *opts, const char *arg, char *err, size_t errlen)
{
	static const char *const known[] = { "R+", "R", "S", "D", "T", "t", "X", "Z", "P", "I" };
	struct wc_opts *wo = opts;
	char *copy = ls_xstrdup(arg), *save = NULL;
	int n = 0, rc = 0;

	for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save), n++) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], t); i++)
			;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "unknown task state '%s' in --state: use R+ (preempted), R "
			    "(runnable), S (sleeping), D (uninterruptible), T, t, X, Z, P, I, like S,D", t);
			rc = -1;
		}
	}
	free(copy);
	if (!rc && !n) {
		snprintf(err, errlen, "empty --state list: give states like S,D");
		rc = -1;
	}
	if (!rc) {
		free(wo->states);
		wo->states = ls_xstrdup(arg);
	}
	return rc;
}

static const struct ls_module_opt wc_options[] = {
	{ "frequency", "HZ", "on-CPU samples per second on each CPU\n(default: 99)",
	    wc_opt_frequency },
	{ "min-block", "DURATION", "leave out off-CPU blocks shorter than this\n(default: 1us; "
	    "ns, us, ms or s)", wc_opt_min_block },
	{ "state", "LIST", "off-CPU task states to keep, like S,D (R+\npreempted, R runnable, "
	    "S sleeping, D disk\nwait, T, t, I idle...; default: all)", wc_opt_state },
	{ NULL, NULL, NULL, NULL },
};

/* wc_prepare - frequency, minimum block and the states to keep, for the probe */
static int wc_prepare(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	const struct wc_opts *o = ls_module_opts(r->opts, p->ops);
	struct wc_priv *wp = ls_xcalloc(1, sizeof(*wp));
	uint32_t mask = 0;

	p->priv = wp;
	state_names(wp, r);
	p->sample_freq = o->frequency;
	ls_probe_cflag(p, "-DWC_PERIOD_NS=%lluULL", 1000000000ULL / o->frequency);
	ls_probe_cflag(p, "-DWC_MIN_BLOCK_NS=%lluULL", (unsigned long long)o->min_block_ns);
	if (o->states) {
		char *copy = ls_xstrdup(o->states), *save = NULL;

		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			for (int st = WC_ST_PREEMPTED; st < WC_NR_STATES; st++)
				if (!strcmp(wp->states[st], t))
					mask |= 1U << st;
		free(copy);
		ls_probe_cflag(p, "-DWC_STATE_MASK=0x%xU", mask);
	}
	return 0;
}

/* read_vmas - the files pr's process maps executable, and its executable's path */
static void read_vmas(struct wc_proc *pr)
{
	char path[64], line[4096 + 128], exe[4096];
	FILE *f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pr->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	pr->exe = n > 0 ? ls_strdup_printf("%.*s", (int)n, exe) : NULL;
	snprintf(path, sizeof(path), "/proc/%u/maps", pr->pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, off;
		char perms[8];
		int at = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &a, &b, perms, &off, &at) != 4 ||
		    !at || perms[2] != 'x' || line[at] != '/')
			continue;
		line[strcspn(line, "\n")] = '\0';
		pr->vmas = ls_xrealloc(pr->vmas, (pr->nvmas + 1) * sizeof(*pr->vmas));
		pr->vmas[pr->nvmas++] = (struct wc_vma){ a, b, off, ls_xstrdup(line + at), NULL, -1 };
	}
	fclose(f);
}

static struct wc_proc *proc_of(struct wc_priv *wp, uint32_t pid, bool create)
{
	struct wc_proc *pr;

	for (int i = 0; i < wp->nprocs; i++)
		if (wp->procs[i].pid == pid)
			return &wp->procs[i];
	if (!create || wp->nprocs == WC_MAX_PROCS)
		return NULL;
	pr = &wp->procs[wp->nprocs++];
	pr->pid = pid;
	pr->syms = bcc_symcache_new((int)pid, NULL);
	read_vmas(pr);
	return pr;
}

/*
 * user_loc - where the code at ip is: its mapping in the profile and the
 * address; a caller's return address less one, so a line view names the
 * call and not the line after it
 */
static struct ls_ploc user_loc(struct ls_profile *pf, struct wc_proc *pr, uint64_t ip, bool caller)
{
	for (int i = 0; pr && i < pr->nvmas; i++) {
		struct wc_vma *v = &pr->vmas[i];

		if (ip < v->start || ip >= v->end)
			continue;
		if (v->pf != pf) {
			v->pf = pf;
			v->map = ls_profile_map(pf, v->path, v->start, v->end, v->off,
			    pr->exe && !strcmp(pr->exe, v->path));
		}
		return (struct ls_ploc){ v->map, caller ? ip - 1 : ip };
	}
	return (struct ls_ploc){ -1, 0 };
}

struct kv_time {
	struct wc_key k;
	struct wc_val v;
};

/*
 * wc_tick - twice a second, a symbol cache for each process newly seen in
 * the profile: its memory map is read while it still runs, so its stacks
 * resolve even if it exits before the end
 */
static void wc_tick(struct ls_probe *p, const struct ls_run *r)
{
	struct wc_priv *wp = p->priv;
	uint64_t now = ls_now_ns(CLOCK_MONOTONIC);
	struct wc_key key, next;
	int fd = ls_probe_table_fd(p, "wc_time");
	bool first = true;

	if (!wp || fd < 0 || now - wp->last_scan_ns < 500000000ULL)
		return;
	wp->last_scan_ns = now;
	while (bpf_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		proc_of(wp, key.tgid, true);
	}
}

/*
 * user_frame - "symbol", or "[unknown] module+0xoff": no parentheses, which
 * pprof would take for a parameter list and cut
 */
static void user_frame(void *syms, uint64_t ip, char *buf, size_t len)
{
	struct bcc_symbol sym;

	memset(&sym, 0, sizeof(sym));
	if (syms && bcc_symcache_resolve(syms, ip, &sym) == 0 && sym.demangle_name) {
		snprintf(buf, len, "%s", sym.demangle_name);
		bcc_symbol_free_demangle_name(&sym);
	} else if (sym.module && strstr(sym.module, "[vdso]")) {
		snprintf(buf, len, "[vdso]");	/* no symbols: one frame for all of it */
	} else if (sym.module) {
		const char *base = strrchr(sym.module, '/');

		snprintf(buf, len, "[unknown] %s+0x%llx", base ? base + 1 : sym.module,
		    (unsigned long long)sym.offset);
	} else {
		snprintf(buf, len, "[unknown] 0x%llx", (unsigned long long)ip);
	}
}

/* a user stack that does not start at a thread's entry was cut short */
static bool stack_root(const char *name)
{
	static const char *const roots[] = {
		"_start", "__libc_start_main", "__libc_start_call_main", "start_thread", "clone",
		"clone3", "__clone", "__clone3", "thread_start",
	};

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!strcmp(name, roots[i]) || !strncmp(name, roots[i], strlen(roots[i])) ||
		    (strstr(name, roots[i]) && strstr(name, "__libc")))
			return true;
	return false;
}

/* vma_of - the file mapping that holds ip, or NULL */
static const struct wc_vma *vma_of(const struct wc_proc *pr, uint64_t ip)
{
	for (int i = 0; pr && i < pr->nvmas; i++)
		if (ip >= pr->vmas[i].start && ip < pr->vmas[i].end)
			return &pr->vmas[i];
	return NULL;
}

/*
 * in_function - whether the code at ip is in the function that starts at
 * entry; true when that cannot be told: entry 0 (an indirect call), entry
 * no symbol's start (a lazily bound PLT slot), or ip in no symbol of the
 * file that holds entry
 */
static bool in_function(const struct wc_proc *pr, uint64_t ip, uint64_t entry)
{
	struct bcc_symbol sym;

	memset(&sym, 0, sizeof(sym));
	if (!pr || !pr->syms || !entry ||
	    bcc_symcache_resolve_no_demangle(pr->syms, entry, &sym) != 0 || sym.offset != 0)
		return true;
	memset(&sym, 0, sizeof(sym));
	if (bcc_symcache_resolve_no_demangle(pr->syms, ip, &sym) != 0)
		return vma_of(pr, ip) == vma_of(pr, entry);	/* the vDSO is in no file */
	return ip - sym.offset == entry;
}

/*
 * chain_holds - whether the found callers in use (bits of `use`, leaf[]
 * order) can stand between walked frame `at` (inner: its code address) and
 * the walk's next return address, whose call entered `outer_to`: each
 * caller's code is in the function the call above it entered, and so is
 * the inner frame's
 */
static bool chain_holds(const struct wc_proc *pr, const struct wc_key *k,
    const struct wc_calls *calls, unsigned use, uint64_t inner, uint64_t outer_to)
{
	uint64_t to = outer_to;

	for (int j = WC_LEAF_FRAMES - 1; j >= 0; j--) {
		uint64_t ret = k->leaf[j] & ~WC_LEAF_HOP;

		if (!(use & (1u << j)))
			continue;
		if (!in_function(pr, ret - 1, to))
			return false;
		to = calls->leaf_to[j];
	}
	return in_function(pr, inner, to);
}

/*
 * leaf_callers - the callers the probe found on the stack that belong
 * below walked frame `at` (0: the sampled leaf at inner, 1: the walk's
 * first caller), outermost first as frames go. Each must be inside a
 * mapping of the process and not repeat the walked frame above (next);
 * and the most of them that make a chain of calls (chain_holds) are kept:
 * a scan also meets return addresses that earlier calls left in a frame's
 * locals, and those would invent callers.
 */
static int leaf_callers(struct ls_profile *pf, struct wc_proc *pr, const struct wc_key *k,
    const struct wc_calls *calls, int at, uint64_t inner, uint64_t next, int *frames,
    struct ls_ploc *locs, int n, int max)
{
	void *syms = pr ? pr->syms : NULL;
	unsigned found = 0, use = 0;
	char name[512];

	for (int j = 0; j < WC_LEAF_FRAMES; j++) {
		uint64_t ret = k->leaf[j] & ~WC_LEAF_HOP;

		if (ret && !(k->leaf[j] & WC_LEAF_HOP) == !at && ret != next &&
		    user_loc(pf, pr, ret, true).map >= 0)
			found |= 1u << j;
	}
	/* the largest subset first: all, then each single one, outermost first */
	for (int u = (1 << WC_LEAF_FRAMES) - 1; u > 0 && !use; u--)
		if ((u & found) == (unsigned)u && chain_holds(pr, k, calls, (unsigned)u, inner,
		    calls->frame_to[at]))
			use = (unsigned)u;
	for (int j = WC_LEAF_FRAMES - 1; j >= 0 && n < max; j--) {
		uint64_t ret = k->leaf[j] & ~WC_LEAF_HOP;

		if (!(use & (1u << j)))
			continue;
		user_frame(syms, ret, name, sizeof(name));
		locs[n] = user_loc(pf, pr, ret, true);
		frames[n++] = ls_profile_frame(pf, name);
	}
	return n;
}

/*
 * build_stack - frames root first: the state marker, the user stack, then
 * the kernel stack (suffixed _[k], as flamegraph.pl colours them)
 */
static int build_stack(struct ls_probe *p, struct ls_profile *pf, const struct wc_key *k,
    const struct wc_calls *calls, int *frames, struct ls_ploc *locs, int max)
{
	struct wc_priv *wp = p->priv;
	int fd = ls_probe_table_fd(p, "wc_stacks"), n = 0;
	uint64_t ips[WC_MAX_DEPTH];
	int32_t uid = k->ustack, kid = k->kstack;
	char name[512];
	int depth;

	if (k->state == WC_ST_RUNNING)
		snprintf(name, sizeof(name), "[running]");
	else
		snprintf(name, sizeof(name), "[blocked: %s]", k->state < WC_NR_STATES ?
		    wp->states[k->state] : "?");
	frames[n++] = ls_profile_frame(pf, name);
	for (int i = 0; i < max; i++)
		locs[i] = (struct ls_ploc){ -1, 0 };
	if (uid == -WC_SHORT) {	/* blocks under --min-block: their time, no stacks */
		frames[n++] = ls_profile_frame(pf, "[short blocks: under --min-block]");
		return n;
	}
	if (uid >= 0 && bpf_lookup_elem(fd, &uid, ips) == 0) {
		struct wc_proc *pr = proc_of(wp, k->tgid, true);
		void *syms = pr ? pr->syms : NULL;
		char root[512];

		for (depth = 0; depth < WC_MAX_DEPTH && ips[depth]; depth++)
			;
		user_frame(syms, ips[depth - 1 >= 0 ? depth - 1 : 0], root, sizeof(root));
		if (depth && !stack_root(root) && depth < WC_MAX_DEPTH)
			frames[n++] = ls_profile_frame(pf, "[truncated: no frame pointers?]");
		for (int i = depth - 1; i >= 0 && n < max; i--) {
			if (i <= 1)
				n = leaf_callers(pf, pr, k, calls, i, i ? ips[i] - 1 : ips[i],
				    i + 1 < depth ? ips[i + 1] : 0, frames, locs, n, max);
			user_frame(syms, ips[i], name, sizeof(name));
			locs[n] = user_loc(pf, pr, ips[i], i > 0);
			frames[n++] = ls_profile_frame(pf, name);
		}
	} else if (k->ustack != -WC_EFAULT) {
		frames[n++] = ls_profile_frame(pf, "[user stack lost]");
	}
	if (kid >= 0 && bpf_lookup_elem(fd, &kid, ips) == 0) {
		struct bcc_symbol sym;

		if (!wp->ksyms)
			wp->ksyms = bcc_symcache_new(-1, NULL);
		for (depth = 0; depth < WC_MAX_DEPTH && ips[depth]; depth++)
			;
		for (int i = depth - 1; i >= 0 && n < max; i--) {
			if (wp->ksyms && bcc_symcache_resolve_no_demangle(wp->ksyms, ips[i], &sym) == 0)
				snprintf(name, sizeof(name), "%s_[k]", sym.name);
			else
				snprintf(name, sizeof(name), "[unknown] 0x%llx_[k]", (unsigned long long)ips[i]);
			frames[n++] = ls_profile_frame(pf, name);
		}
	} else if (k->kstack != -WC_EFAULT) {
		frames[n++] = ls_profile_frame(pf, "[kernel stack lost]");
	}
	return n;
}

/* stack_text - "leaf < caller < ..." for the box report, at most three frames */
static void stack_text(const struct ls_profile *pf, const struct ls_psample *s, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	for (int i = s->nframes - 1, shown = 0; i >= 1 && shown < 3 && n < (int)len; i--, shown++)
		n += snprintf(buf + n, len - n, "%s%s", shown ? " < " : "", pf->frames[s->frames[i]]);
	if (s->nframes <= 1)
		snprintf(buf, len, "(no stack)");
}

static void collect_tables(struct ls_section *s, const struct ls_profile *pf)
{
	static const struct ls_column tcols[] = {
		{ "tid", "TID", 7 }, { "pid", "PID", 7 }, { "comm", "COMM", 15 },
		{ "on_cpu_ns", "ON CPU", 10 }, { "off_cpu_ns", "OFF CPU", 10 }, { "on_cpu_share", "ON %", 6 },
	};
	static const struct ls_column scols[] = {
		{ "tid", "TID", 7 }, { "state", "STATE", 10 }, { "ns", "TIME", 9 },
		{ "share", "SHARE", 6 }, { "stack", "STACK (LEAF FIRST)", 36 }, { "frames", NULL, 0 },
	};
	struct ls_table *t = ls_section_table(s, "threads", "Wall-clock time per thread", 6, tcols);
	struct ls_table *st;
	char text[512];

	t->max_text_rows = 10;
	for (int i = 0; i < pf->nthreads; i++) {
		const struct ls_pthread *th = &pf->threads[i];
		uint64_t all = th->on_ns + th->off_ns;
		struct ls_value *row = ls_table_row(t);

		row[0] = ls_v_uint(th->tid, LS_F_PLAIN);
		row[1] = ls_v_uint(th->pid, LS_F_PLAIN);
		row[2] = ls_v_str(th->comm);
		row[3] = ls_v_uint(th->on_ns, LS_F_NS);
		row[4] = ls_v_uint(th->off_ns, LS_F_NS);
		row[5] = ls_v_double(all ? (double)th->on_ns / all : 0, LS_F_PERCENT);
	}
	st = ls_section_table(s, "top_stacks", "Top stacks of the busiest threads, running and "
	    "blocked", 6, scols);
	st->max_text_rows = 24;
	for (int i = 0; i < pf->nthreads && i < 8; i++) {
		const struct ls_pthread *th = &pf->threads[i];
		uint64_t all = th->on_ns + th->off_ns;
		int on = 0, off = 0;

		for (int k = 0; k < th->nsamples; k++) {
			const struct ls_psample *sm = &th->samples[k];
			struct ls_value *row;
			char *js;
			json_t *fr;

			if ((sm->running && on++ >= 3) || (!sm->running && off++ >= 3))
				continue;
			stack_text(pf, sm, text, sizeof(text));
			fr = json_array();
			for (int j = 0; j < sm->nframes; j++)
				json_array_append_new(fr, json_string(pf->frames[sm->frames[j]]));
			js = json_dumps(fr, JSON_COMPACT);
			json_decref(fr);
			row = ls_table_row(st);
			row[0] = ls_v_uint(th->tid, LS_F_PLAIN);
			row[1] = ls_v_str(pf->frames[sm->frames[0]]);
			row[2] = ls_v_uint(sm->ns, LS_F_NS);
			row[3] = ls_v_double(all ? (double)sm->ns / all : 0, LS_F_PERCENT);
			row[4] = ls_v_str(text);
			row[5] = ls_v_json(js ? js : "[]");
			free(js);
		}
	}
}

/* find_thread - the profile's thread tid, NULL if it has no stack */
static struct ls_pthread *find_thread(struct ls_profile *pf, uint32_t tid)
{
	for (int i = 0; i < pf->nthreads; i++)
		if (pf->threads[i].tid == tid)
			return &pf->threads[i];
	return NULL;
}

/*
 * set_running - a thread's exact on-CPU time: its sampled stacks share it
 * in proportion to their samples; with no sample it is one stack of its own
 */
static void set_running(struct ls_profile *pf, struct ls_pthread *t, uint64_t exact)
{
	uint64_t sampled = t->on_ns, left = exact;
	int last = -1;

	if (!sampled) {
		int fr[2] = { ls_profile_frame(pf, "[running]"),
			      ls_profile_frame(pf, "[running: between samples]") };

		if (exact)
			ls_profile_add(t, fr, 2, exact, 0, true);
		return;
	}
	for (int k = 0; k < t->nsamples; k++) {
		struct ls_psample *s = &t->samples[k];

		if (!s->running)
			continue;
		for (int v = 0; v < s->nvariants; v++)
			s->variants[v].ns = (uint64_t)((double)s->variants[v].ns * exact / sampled);
		s->ns = (uint64_t)((double)s->ns * exact / sampled);
		left -= s->ns < left ? s->ns : left;
		last = k;
	}
	if (last >= 0)		/* rounding: the sums stay exact */
		t->samples[last].ns += left;
	t->on_ns = exact;
}

struct kv_on {
	uint32_t	 tid;
	uint32_t	 pad;
	struct wc_on	 v;
};

/*
 * exact_running - each thread's running time from the scheduler (wc_oncpu)
 * and, for what is on a CPU when the run ends, the time since it came on
 */
static void exact_running(struct ls_probe *p, struct ls_profile *pf, uint64_t end)
{
	int n, ncpu = ls_nr_possible_cpus(), nt = pf->nthreads ? pf->nthreads : 1;
	struct kv_on *kv = ls_probe_read_hash(p, "wc_oncpu", sizeof(*kv), offsetof(struct kv_on, v), &n);
	struct wc_cur *cur = ls_xcalloc(ncpu, sizeof(*cur));
	uint64_t *ns = ls_xcalloc(nt, sizeof(*ns));
	bool *known = ls_xcalloc(nt, sizeof(*known));
	struct ls_pthread *t;

	if (ls_probe_read_percpu(p, "wc_curs", 0, cur, sizeof(*cur)) < 0)
		memset(cur, 0, (size_t)ncpu * sizeof(*cur));
	for (int c = 0; c < ncpu; c++)
		if (cur[c].tid && cur[c].ts && cur[c].ts < end && (t = find_thread(pf, cur[c].tid))) {
			ns[t - pf->threads] += end - cur[c].ts;
			known[t - pf->threads] = true;
		}
	for (int i = 0; kv && i < n; i++)
		if ((t = find_thread(pf, kv[i].tid))) {
			ns[t - pf->threads] += kv[i].v.ns;
			known[t - pf->threads] = true;
		}
	for (int i = 0; i < pf->nthreads; i++)
		if (known[i])
			set_running(pf, &pf->threads[i], ns[i]);
	free(kv);
	free(cur);
	free(ns);
	free(known);
}

/*
 * open_blocks - a thread still off CPU when the run ends: its block counts
 * up to the end, under the stacks it left with; returns how many
 */
static int open_blocks(struct ls_probe *p, struct ls_profile *pf, uint64_t end, uint64_t min_block)
{
	int fd = ls_probe_table_fd(p, "wc_blocks"), open = 0;
	uint32_t slots = (uint32_t)ls_probe_table_max_entries(p, "wc_blocks");
	int frames[2 * WC_MAX_DEPTH + 4];
	struct ls_ploc locs[2 * WC_MAX_DEPTH + 4];

	for (int i = 0; fd >= 0 && slots && i < pf->nthreads; i++) {
		uint32_t idx = pf->threads[i].tid & (slots - 1);
		struct wc_block b;
		struct wc_key k = {};
		struct wc_calls none = {};	/* off CPU: no leaf callers */
		bool listed;
		int nf;

		if (bpf_lookup_elem(fd, &idx, &b) < 0 || b.tid != pf->threads[i].tid || !b.ts ||
		    b.ts >= end)
			continue;
		listed = end - b.ts >= min_block;
		k.tgid = b.tgid;
		k.tid = b.tid;
		k.state = b.state;
		k.kstack = listed ? b.kstack : -WC_SHORT;
		k.ustack = listed ? b.ustack : -WC_SHORT;
		nf = build_stack(p, pf, &k, &none, frames, locs, (int)(sizeof(frames) / sizeof(frames[0])));
		ls_profile_add_at(&pf->threads[i], frames, locs, nf, end - b.ts, 1, false);
		open++;
	}
	return open;
}

static int wc_collect(struct ls_probe *p, const struct ls_run *r, struct ls_section *s)
{
	struct wc_counters c;
	const struct wc_opts *wo = ls_module_opts(r->opts, p->ops);
	struct ls_profile *pf = ls_profile_new(1000000000ULL / wo->frequency);
	int n, frames[2 * WC_MAX_DEPTH + 4];
	struct ls_ploc locs[2 * WC_MAX_DEPTH + 4];
	struct kv_time *kv = ls_probe_read_hash(p, "wc_time", sizeof(*kv), offsetof(struct kv_time, v), &n);
	uint64_t end;
	int nopen;

	if (ls_probe_sum_percpu(p, "wc_counters", 0, &c, sizeof(c)) < 0 || !kv) {
		free(kv);
		ls_profile_free(pf);
		return -1;
	}
	pf->start_real_ns = r->real_start_ns;
	pf->duration_ns = (uint64_t)(r->duration_s * 1e9);
	for (int i = 0; i < n; i++) {
		char comm[WC_COMM_LEN + 1];
		struct ls_pthread *t = ls_profile_thread(pf, kv[i].k.tid, kv[i].k.tgid,
		    ls_comm(comm, kv[i].v.comm, WC_COMM_LEN));
		int nf = build_stack(p, pf, &kv[i].k, &kv[i].v.calls, frames, locs, (int)(sizeof(frames) / sizeof(frames[0])));

		ls_profile_add_at(t, frames, locs, nf, kv[i].v.ns, kv[i].v.count,
		    kv[i].k.state == WC_ST_RUNNING);
	}
	free(kv);
	end = r->mono_start_ns + (uint64_t)(r->duration_s * 1e9);
	nopen = open_blocks(p, pf, end, wo->min_block_ns);
	exact_running(p, pf, end);
	ls_profile_sort(pf);
	ls_section_metric(s, "frequency_hz", "On-CPU sampling", ls_v_uint(wo->frequency, LS_F_PLAIN));
	ls_section_metric(s, "samples", "On-CPU samples", ls_v_uint(c.samples, LS_F_COUNT));
	ls_section_metric(s, "blocks", "Off-CPU blocks", ls_v_uint(c.blocks, LS_F_COUNT));
	ls_section_metric(s, "short_blocks", NULL, ls_v_uint(c.short_blocks, LS_F_COUNT));
	ls_section_metric(s, "min_block_ns", NULL, ls_v_uint(wo->min_block_ns, LS_F_NS));
	ls_section_metric(s, "user_stacks_reused", NULL, ls_v_uint(c.ustacks_reused, LS_F_COUNT));
	ls_section_metric(s, "lost.stacks", NULL, ls_v_uint(c.stack_errors, LS_F_COUNT));
	ls_section_metric(s, "lost.records", NULL, ls_v_uint(c.table_full, LS_F_COUNT));
	ls_section_metric(s, "lost.block_slots", NULL, ls_v_uint(c.slot_busy, LS_F_COUNT));
	collect_tables(s, pf);
	ls_section_note(s, "running time is the scheduler's, switch-in to switch-out; the "
	    "%u Hz samples only share it among a thread's stacks", (unsigned)wo->frequency);
	if (c.short_blocks)
		ls_section_note(s, "%llu blocks shorter than --min-block are counted as time without "
		    "their stacks", (unsigned long long)c.short_blocks);
	if (nopen)
		ls_section_note(s, "%d threads were still off CPU when the run ended: their blocks "
		    "count up to the end", nopen);
	if (c.unseen_in)
		ls_section_note(s, "%llu switch-ins were not seen by the probe: those stints are "
		    "counted from the latest switch seen before them", (unsigned long long)c.unseen_in);
	if (c.leaf_samples)
		ls_section_note(s, "%llu on-CPU samples were in code that sets up no frame pointer (a "
		    "libc or vDSO leaf): their callers were recovered from return addresses on the "
		    "stack; a caller that itself keeps no frame may still be missing",
		    (unsigned long long)c.leaf_samples);
	if (c.on_full)
		ls_section_note(s, "%llu threads' running time did not fit the table: theirs is "
		    "estimated from samples", (unsigned long long)c.on_full);
	if (c.stack_errors || c.table_full || c.slot_busy)
		ls_section_note(s, "lost: %llu stacks (stack table full or hash collision), %llu records "
		    "(table full), %llu blocks (slot taken): the profile undercounts them",
		    (unsigned long long)c.stack_errors, (unsigned long long)c.table_full,
		    (unsigned long long)c.slot_busy);
	s->profile = pf;
	return 0;
}

static void wc_judge(struct ls_section *s, const struct ls_run *r)
{
	uint64_t lost = ls_section_find_metric(s, "lost.stacks")->u +
	    ls_section_find_metric(s, "lost.records")->u;
	uint64_t got = ls_section_find_metric(s, "samples")->u + ls_section_find_metric(s, "blocks")->u;
	const struct ls_table *t = ls_section_find_table(s, "threads");

	if (got && lost * 100 > got)
		ls_section_finding(s, LS_WARN, "profile fewer threads (--pid) or a shorter run; see "
		    "the lost counts", "%llu of %llu stacks were lost: the profile is incomplete",
		    (unsigned long long)lost, (unsigned long long)(got + lost));
	else
		ls_section_finding(s, LS_PASS, NULL, "%d threads profiled; --format folded, pprof, "
		    "speedscope or chrome writes the stacks", t ? t->nrows : 0);
	(void)r;
}

static void wc_cleanup(struct ls_probe *p)
{
	struct wc_priv *wp = p->priv;

	if (!wp)
		return;
	for (int i = 0; i < wp->nprocs; i++) {
		struct wc_proc *pr = &wp->procs[i];

		if (pr->syms)
			bcc_free_symcache(pr->syms, (int)pr->pid);
		for (int v = 0; v < pr->nvmas; v++)
			free(pr->vmas[v].path);
		free(pr->vmas);
		free(pr->exe);
	}
	if (wp->ksyms)
		bcc_free_symcache(wp->ksyms, -1);
}

/* the maps collect() reads, checked against the probe when it is compiled */
static const struct ls_map_layout wc_maps[] = {
	LS_MAP("wc_time", struct wc_key, struct wc_val),
	LS_MAP("wc_counters", uint32_t, struct wc_counters),
	LS_MAP("wc_oncpu", uint32_t, struct wc_on),
	LS_MAP("wc_curs", uint32_t, struct wc_cur),
	LS_MAP("wc_blocks", uint32_t, struct wc_block),
	{ NULL, 0, 0 },
};

/* wc_events - samples and blocks so far, for the progress line */
static uint64_t wc_events(struct ls_probe *p)
{
	struct wc_counters c;

	return ls_probe_sum_percpu(p, "wc_counters", 0, &c, sizeof(c)) < 0 ? 0 :
	    c.samples + c.blocks + c.short_blocks;
}

const struct ls_module_ops ls_mod_wallclock = {
	.name = "wallclock",
	.title = "WALL-CLOCK PROFILER",
	.summary = "on-CPU samples and off-CPU blocks with stacks, per thread, in one wall-clock "
	    "profile (folded, pprof, speedscope, chrome); only on request",
	.on_request = true,
	.thresholds = wc_thresholds,
	.maps = wc_maps,
	.options = wc_options,
	.opts_size = sizeof(struct wc_opts),
	.opts_init = wc_opts_init,
	.opts_free = wc_opts_free,
	.profiles = true,
	.prepare = wc_prepare,
	.tick = wc_tick,
	.collect = wc_collect,
	.events = wc_events,
	.judge = wc_judge,
	.cleanup = wc_cleanup,
};
