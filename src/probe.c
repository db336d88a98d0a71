// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe.c - the runtime probe engine: read probes/<module>.c, splice the
 * filters in as -D macros, compile it with libbcc, load and attach every
 * TRACEPOINT_PROBE it defines, read its maps and its event channel, and
 * tear it all down again.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/perf_event.h>

#include "latencyscope.h"

#define LS_FN_PREFIX "tracepoint__"
#define LS_RAW_PREFIX "raw_tracepoint__"
#define LS_SWEV_PREFIX "ls_swev__"	/* LS_SOFTWARE_EVENT_PROBE(name) in probes/latencyscope.h */

/* the software perf events a probe can run on, by the name it gives them */
static const struct {
	const char *name;
	int	    config;
} ls_swevs[] = {
	{ "cpu_clock", PERF_COUNT_SW_CPU_CLOCK },
	{ "task_clock", PERF_COUNT_SW_TASK_CLOCK },
	{ "page_faults", PERF_COUNT_SW_PAGE_FAULTS },
	{ "context_switches", PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu_migrations", PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "page_faults_min", PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "page_faults_maj", PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "alignment_faults", PERF_COUNT_SW_ALIGNMENT_FAULTS },
	{ "emulation_faults", PERF_COUNT_SW_EMULATION_FAULTS },
};

/* swev_config - the perf config of a software event name, -1 when unknown */
static int swev_config(const char *name)
{
	for (size_t i = 0; i < sizeof(ls_swevs) / sizeof(ls_swevs[0]); i++)
		if (!strcmp(ls_swevs[i].name, name))
			return ls_swevs[i].config;
	return -1;
}
#define LS_LOG_SIZE (1 << 20)
#define LS_PERF_WAKEUP 256	/* records per wake-up of a perf buffer: LS_WAKE_EVERY in the probes */

struct perf_readers {
	int n;
	struct perf_reader **r;
};

/* ls_nr_possible_cpus - per-CPU map values come in this many slots */
int ls_nr_possible_cpus(void)
{
	static int n;
	struct ls_cpuset s;

	if (n)
		return n;
	if (ls_read_cpulist_file("/sys/devices/system/cpu/possible", &s) == 0)
		for (int c = 0; c < LS_MAX_CPUS; c++)
			if (ls_cpuset_isset(&s, c))
				n = c + 1;
	if (!n)
		n = (int)sysconf(_SC_NPROCESSORS_CONF);
	return n;
}

static bool ls_env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

static bool kernel_at_least(const char *release, int maj, int min)
{
	int a = 0, b = 0;

	if (sscanf(release, "%d.%d", &a, &b) < 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/*
 * scan_tracepoints - every TRACEPOINT_PROBE(cat, ev) in the probe text; a
 * tracepoint is optional when the file tests LS_HAVE_TP_cat__ev for it
 */
/* tp_add - a new, zeroed tracepoint entry for event ev; NULL when out of memory */
static struct ls_tp *tp_add(struct ls_probe *p, const char *ev)
{
	struct ls_tp *tp = realloc(p->tps, (p->ntps + 1) * sizeof(*p->tps));

	if (!tp)
		return NULL;
	p->tps = tp;
	tp = &p->tps[p->ntps++];
	memset(tp, 0, sizeof(*tp));
	snprintf(tp->ev, sizeof(tp->ev), "%s", ev);
	return tp;
}

static int scan_tracepoints(struct ls_probe *p, const char *text, const struct ls_host *h)
{
	const char *s = text;

	while ((s = strstr(s, "TRACEPOINT_PROBE("))) {
		char cat[64], ev[64], guard[160];
		bool raw = s - text >= 4 && !strncmp(s - 4, "RAW_", 4);
		struct ls_tp *tp;

		s += strlen("TRACEPOINT_PROBE(");
		if (raw || sscanf(s, " %63[A-Za-z0-9_] , %63[A-Za-z0-9_] )", cat, ev) != 2)
			continue;
		if (!(tp = tp_add(p, ev)))
			return -1;
		snprintf(tp->cat, sizeof(tp->cat), "%s", cat);
		snprintf(guard, sizeof(guard), "LS_HAVE_TP_%s__%s", cat, ev);
		tp->optional = strstr(text, guard) != NULL;
		tp->present = ls_tracepoint_exists(h, cat, ev);
	}
	/* RAW_TRACEPOINT_PROBE(ev): the same tracepoint, without the perf-event copy of its args */
	for (s = text; (s = strstr(s, "RAW_TRACEPOINT_PROBE(")); ) {
		char ev[64], guard[160];
		struct ls_tp *tp;

		s += strlen("RAW_TRACEPOINT_PROBE(");
		if (sscanf(s, " %63[A-Za-z0-9_] )", ev) != 1)
			continue;
		if (!(tp = tp_add(p, ev)))
			return -1;
		tp->present = ls_tracepoint_category(h, ev, tp->cat, sizeof(tp->cat));
		snprintf(guard, sizeof(guard), "__%s", ev);
		tp->optional = false;	/* guarded by LS_HAVE_TP_<any category>__ev */
		for (const char *g = text; !tp->optional && (g = strstr(g, "LS_HAVE_TP_")); g++) {
			size_t n = strcspn(g, " \t\n)");

			tp->optional = n > strlen(guard) &&
			    !strncmp(g + n - strlen(guard), guard, strlen(guard));
			if (tp->optional && !tp->present)	/* the category, as the guard names it */
				snprintf(tp->cat, sizeof(tp->cat), "%.*s",
				    (int)(n - strlen("LS_HAVE_TP_") - strlen(guard)), g + strlen("LS_HAVE_TP_"));
		}
	}
	return 0;
}

/* the engine's own maps (probes/latencyscope.h); ls_tgid exists with --pid only */
static const struct ls_map_layout engine_maps[] = {
	LS_MAP("ls_gate", uint32_t, uint32_t),
	LS_MAP("ls_start", uint32_t, uint64_t),
	LS_MAP("ls_lost", uint32_t, uint64_t),
	LS_MAP("ls_tgid", uint32_t, uint32_t),
	{ NULL, 0, 0 },
};

/*
 * check_layout - the compiled probe's maps have the sizes this binary was
 * built with: a header in probes/ edited since would make every read of
 * them wrong (or overrun the buffer), so such a probe is refused
 */
static int check_layout(struct ls_probe *p, const struct ls_map_layout *m, bool engine, char *err,
    size_t errlen)
{
	for (; m && m->name; m++) {
		size_t ks, vs;

		if (bpf_table_fd(p->mod, m->name) < 0) {
			if (engine)
				continue;
			snprintf(err, errlen, "probe file %s has no map %s, which latencyscope reads: "
			    "the probe and the binary are from different versions (rebuild with make, "
			    "or point --probes-dir at the probes it was built with)", p->path, m->name);
			return -1;
		}
		ks = bpf_table_key_size(p->mod, m->name);
		vs = bpf_table_leaf_size(p->mod, m->name);
		if (ks != m->key_size || vs != m->value_size) {
			snprintf(err, errlen, "probe file %s: map %s has %zu-byte keys and %zu-byte "
			    "values, latencyscope was built for %zu and %zu: a header beside it "
			    "changed since the build (rebuild with make, or point --probes-dir at the "
			    "probes it was built with)", p->path, m->name, ks, vs, m->key_size,
			    m->value_size);
			return -1;
		}
	}
	return 0;
}

static int check_maps(struct ls_probe *p, const struct ls_module_ops *ops, char *err, size_t errlen)
{
	if (check_layout(p, engine_maps, true, err, errlen) < 0)
		return -1;
	return check_layout(p, ops->maps, false, err, errlen);
}

struct cflags {
	int n;
	char *v[64];
};

static void cflag(struct cflags *c, char *s)
{
	if (c->n < (int)(sizeof(c->v) / sizeof(c->v[0])))
		c->v[c->n++] = s;
	else
		free(s);
}

/* cpu_match_macro - LS_CPU_MATCH(c) as ranges; NULL when every CPU is monitored */
static char *cpu_match_macro(const struct ls_cpuset *cpus, int nr_possible)
{
	size_t cap = 256, len = 0;
	char *m;
	bool all = true;

	for (int c = 0; c < nr_possible; c++)
		all &= ls_cpuset_isset(cpus, c);
	if (all)
		return NULL;
	m = malloc(cap);
	len = snprintf(m, cap, "-DLS_CPU_MATCH(c)=(0");
	for (int c = 0; c < LS_MAX_CPUS; c++) {
		char item[64];
		int e = c, n;

		if (!ls_cpuset_isset(cpus, c))
			continue;
		while (e + 1 < LS_MAX_CPUS && ls_cpuset_isset(cpus, e + 1))
			e++;
		if (e == c)
			n = snprintf(item, sizeof(item), "||(c)==%d", c);
		else
			n = snprintf(item, sizeof(item), "||((c)>=%d&&(c)<=%d)", c, e);
		if (len + n + 2 > cap) {
			cap = (len + n + 2) * 2;
			m = realloc(m, cap);
			if (!m)
				abort();
		}
		memcpy(m + len, item, n + 1);
		len += n;
		c = e;
	}
	memcpy(m + len, ")", 2);
	return m;
}

static char *pid_match_macro(const int *pids, int npids)
{
	size_t len = 0, cap = 64 + npids * 24;
	char *m = malloc(cap);

	if (!m)
		abort();
	len = snprintf(m, cap, "-DLS_PID_MATCH(p)=(0");
	for (int i = 0; i < npids; i++)
		len += snprintf(m + len, cap - len, "||(p)==%d", pids[i]);
	snprintf(m + len, cap - len, ")");
	return m;
}

/*
 * capture_stderr_begin/end - libbcc prints clang's diagnostics on stderr;
 * keep them so a failed compile can show them with the probe's path and
 * line, and so a clean run stays quiet unless -v
 */
static int capture_stderr_begin(FILE **tmp)
{
	int saved;

	fflush(stderr);
	*tmp = tmpfile();
	if (!*tmp)
		return -1;
	saved = dup(STDERR_FILENO);
	dup2(fileno(*tmp), STDERR_FILENO);
	return saved;
}

static char *capture_stderr_end(FILE *tmp, int saved)
{
	char *buf = NULL;
	long len;

	if (saved < 0)
		return NULL;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = ftell(tmp);
	if (len > 0 && (buf = calloc(1, len + 1))) {
		rewind(tmp);
		if (fread(buf, 1, len, tmp) != (size_t)len)
			buf[0] = '\0';
	}
	fclose(tmp);
	return buf;
}

static bool fn_to_tracepoint(const char *fn, char *cat, size_t catlen, char *ev, size_t evlen)
{
	const char *s, *sep;

	if (!strncmp(fn, LS_RAW_PREFIX, strlen(LS_RAW_PREFIX)) && fn[strlen(LS_RAW_PREFIX)]) {
		snprintf(cat, catlen, "%s", "");	/* raw: the event name alone */
		snprintf(ev, evlen, "%s", fn + strlen(LS_RAW_PREFIX));
		return true;
	}

	if (strncmp(fn, LS_FN_PREFIX, strlen(LS_FN_PREFIX)))
		return false;
	s = fn + strlen(LS_FN_PREFIX);
	sep = strstr(s, "__");
	if (!sep || sep == s || !sep[2])
		return false;
	snprintf(cat, catlen, "%.*s", (int)(sep - s), s);
	snprintf(ev, evlen, "%s", sep + 2);
	return true;
}

/* tail_lines - the last n lines of a long verifier log */
static const char *tail_lines(const char *s, int n)
{
	const char *p = s + strlen(s);

	while (p > s && n >= 0) {
		p--;
		if (*p == '\n')
			n--;
	}
	return p == s ? s : p + 1;
}

/*
 * verifier_where - the probe line the verifier stopped at. Its log quotes
 * source lines ("; if (h->min == 0 ...)") but not where they are; the last
 * quoted line that occurs in the spliced source (whose #line directives
 * name the real files) gives file:line, or several when it is not unique.
 */
static void verifier_where(const char *log, const char *src, char *out, size_t outlen)
{
	const char *q = log + strlen(log);

	out[0] = '\0';
	while (q > log && !out[0]) {
		const char *bol = q - 1, *s = src, *eol;
		char want[256], file[256] = "?";
		int line = 1, hits = 0;
		size_t n, len = 0;

		while (bol > log && bol[-1] != '\n')
			bol--;
		eol = q;
		q = bol;
		if (bol[0] != ';' || bol[1] != ' ')
			continue;
		n = (size_t)(eol - bol - 2);
		for (size_t i = 0; i + 3 <= n; i++)	/* newer kernels add " @ file:line" */
			if (!memcmp(bol + 2 + i, " @ ", 3))
				n = i;
		while (n && (bol[2 + n - 1] == '\n' || bol[2 + n - 1] == ' '))
			n--;
		if (n < 8 || n >= sizeof(want))	/* "return 0;" matches everywhere */
			continue;
		memcpy(want, bol + 2, n);
		want[n] = '\0';
		for (; *s; line++) {
			const char *e = strchr(s, '\n'), *t = s;
			size_t l = e ? (size_t)(e - s) : strlen(s);
			int ln;

			if (sscanf(s, "#line %d \"%255[^\"]\"", &ln, file) == 2) {
				line = ln - 1;
			} else {
				while (*t == ' ' || *t == '\t')
					t++;
				l -= (size_t)(t - s);
				while (l && (t[l - 1] == ' ' || t[l - 1] == '\t' || t[l - 1] == '\r'))
					l--;
				if (l == n && !memcmp(t, want, n)) {
					char at[300];

					/* a header spliced twice (include guards) is one place */
					snprintf(at, sizeof(at), "%s:%d", file, line);
					if (!strstr(out, at) && hits++ < 3)
						len += (size_t)snprintf(out + len,
						    len < outlen ? outlen - len : 0, "%s%s",
						    hits > 1 ? ", " : "", at);
				}
			}
			if (!e)
				break;
			s = e + 1;
		}
		if (hits && len < outlen)
			snprintf(out + len, outlen - len, ": `%s`", want);
	}
}

/* sb_add - append to a growing string */
static void sb_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			abort();
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * expand_includes - splice `#include "x.h"` of files in the probes
 * directory into the text. libbcc rewrites map calls (m.lookup(...)) only
 * in the main file, so shared probe code must become part of it; #line
 * directives keep clang's diagnostics pointing at the real file and line.
 */
static char *expand_includes(const char *text, const char *dir, const char *path, int depth,
    char *err, size_t errlen)
{
	size_t len = 0, cap = strlen(text) + 256;
	char *out = malloc(cap), name[256], hdr[4096];
	const char *line = text;
	int lineno = 1;

	if (!out)
		abort();
	out[0] = '\0';
	sb_add(&out, &len, &cap, "", 0);
	{
		char *l = ls_strdup_printf("#line 1 \"%s\"\n", path);

		sb_add(&out, &len, &cap, l, strlen(l));
		free(l);
	}
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line + 1) : strlen(line);
		char *inc = NULL;

		if (ls_trust_include(line, path, lineno, err, errlen) < 0) {
			free(out);
			return NULL;
		}
		if (depth < 8 && sscanf(line, " # include \"%255[^\"]\"", name) == 1 && !strchr(name, '/')) {
			snprintf(hdr, sizeof(hdr), "%s/%s", dir, name);
			if (ls_trust_probe_file(dir, hdr, err, errlen) < 0) {
				free(out);
				return NULL;
			}
			inc = ls_read_file(hdr, NULL);
		}
		if (inc) {
			char *sub = expand_includes(inc, dir, hdr, depth + 1, err, errlen);
			char *back;

			if (!sub) {
				free(inc);
				free(out);
				return NULL;
			}
			back = ls_strdup_printf("\n#line %d \"%s\"\n", lineno + 1, path);

			sb_add(&out, &len, &cap, sub, strlen(sub));
			sb_add(&out, &len, &cap, back, strlen(back));
			free(sub);
			free(back);
			free(inc);
		} else {
			sb_add(&out, &len, &cap, line, n);
		}
		line += n;
		lineno++;
		/* libbcc inserts the tracepoint's args struct above the probe: renumber after it */
		if (!inc && !strncmp(line - n, "TRACEPOINT_PROBE(", 17) && eol) {
			char *again = ls_strdup_printf("#line %d \"%s\"\n", lineno, path);

			sb_add(&out, &len, &cap, again, strlen(again));
			free(again);
		}
	}
	return out;
}

/*
 * ls_probe_open - read, compile and load the module's probe file.
 * Returns 0 when loaded, 1 when the module cannot be measured on this
 * kernel (p->not_measured says why), -1 on an error (err says which).
 */
/*
 * event_pages - ring buffer pages per probe (a power of two): --trace-buffer,
 * or for a timeline 64 KiB per second of the run (256 KiB to 16 MiB), else
 * 256 KiB, which the worst-N lists never fill
 */
static unsigned event_pages(const struct ls_run *r)
{
	unsigned want = 64, pages = 1;

	if (r->opts->trace_buffer_kib)
		want = r->opts->trace_buffer_kib / 4;
	else if (r->timeline && r->timeline->on)
		want = (unsigned)(r->opts->duration * 16 > 4096 ? 4096 : r->opts->duration * 16);
	if (want < 64 && !r->opts->trace_buffer_kib)
		want = 64;
	while (pages < want)
		pages <<= 1;
	return pages;
}

int ls_probe_open(struct ls_probe *p, const struct ls_module_ops *ops, const struct ls_run *r,
    char *err, size_t errlen)
{
	struct cflags cf = { 0 };
	char *text = NULL, *src = NULL, *diag = NULL, *log = NULL, *m;
	const struct ls_host *h = r->host;
	FILE *tmp = NULL;
	int saved, rc = -1;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->run = r;
	p->cpus = &r->cpus;
	p->path = ls_strdup_printf("%s/%s.c", r->probes_dir, ops->name);
	if (ls_trust_probe_file(r->probes_dir, p->path, err, errlen) < 0)
		return -1;
	text = ls_read_file(p->path, NULL);
	if (!text) {
		snprintf(err, errlen, "cannot read probe file %s (%s): pass --probes-dir DIR or set "
		    "LATENCYSCOPE_PROBES_DIR to the directory that holds %s.c", p->path,
		    strerror(errno), ops->name);
		return -1;
	}
	if (scan_tracepoints(p, text, h) < 0)
		goto out;
	for (int i = 0; i < p->ntps; i++) {
		if (!p->tps[i].present && !p->tps[i].optional) {
			p->not_measured = ls_strdup_printf("tracepoint %s:%s does not exist on kernel %s "
			    "(no %s/events/%s/%s)", p->tps[i].cat, p->tps[i].ev, h->kernel,
			    h->tracefs, p->tps[i].cat, p->tps[i].ev);
			rc = 1;
			goto out;
		}
	}

	cflag(&cf, ls_strdup_printf("-I%s", r->probes_dir));
	cflag(&cf, strdup("-DLS_BPF=1"));
	if ((m = cpu_match_macro(&r->cpus, h->nr_possible)))
		cflag(&cf, m);
	if (r->opts->npids) {
		cflag(&cf, pid_match_macro(r->opts->pids, r->opts->npids));
		cflag(&cf, strdup("-DLS_PID_FILTER=1"));
	}
	cflag(&cf, ls_strdup_printf("-DLS_PID_MAX=%llu", (unsigned long long)h->pid_max));
	cflag(&cf, ls_strdup_printf("-DLS_SELF_TGID=%d", (int)getpid()));
	cflag(&cf, ls_strdup_printf("-DLS_NR_CPUS=%d", ls_nr_possible_cpus()));
	cflag(&cf, ls_strdup_printf("-DLS_PERF_SAMPLE_PERIOD_OFF=%zu",
	    offsetof(struct bpf_perf_event_data, sample_period)));
	cflag(&cf, ls_strdup_printf("-DLS_PERF_ADDR_OFF=%zu", offsetof(struct bpf_perf_event_data, addr)));
	cflag(&cf, ls_strdup_printf("-DLS_EVENT_PAGES=%u", event_pages(r)));
	if (r->timeline && r->timeline->on) {	/* probes add what only a timeline needs */
		cflag(&cf, strdup("-DLS_TIMELINE=1"));
		cflag(&cf, ls_strdup_printf("-DLS_TRACE_THRESHOLD_NS=%lluULL",
		    (unsigned long long)r->timeline->threshold_ns));
	}
	/* LATENCYSCOPE_EVENTS=perf forces the pre-5.8 perf-buffer path (for testing it) */
	if (kernel_at_least(h->kernel, 5, 8) && !ls_env_is("LATENCYSCOPE_EVENTS", "perf"))
		cflag(&cf, strdup("-DLS_HAVE_RINGBUF=1"));
	for (int i = 0; i < p->ntps; i++)
		if (p->tps[i].present)
			cflag(&cf, ls_strdup_printf("-DLS_HAVE_TP_%s__%s=1", p->tps[i].cat, p->tps[i].ev));
	if (ops->prepare) {
		err[0] = '\0';
		if (ops->prepare(p, r, err, errlen) < 0) {
			if (!err[0])
				snprintf(err, errlen, "%s: cannot prepare the probe: %s", ops->name,
				    strerror(errno));
			goto out;
		}
	}
	for (int i = 0; i < p->ncflags; i++)
		cflag(&cf, strdup(p->cflags[i]));

	ls_debug("%s: probe %s", ops->name, p->path);
	for (int i = 0; i < cf.n; i++)
		ls_debug("%s: cflag %s", ops->name, cf.v[i]);

	src = expand_includes(text, r->probes_dir, p->path, 0, err, errlen);
	if (!src)
		goto out;
	saved = capture_stderr_begin(&tmp);
	p->mod = bpf_module_create_c_from_string(src, 0, (const char **)cf.v, cf.n, true, NULL);
	diag = capture_stderr_end(tmp, saved);
	if (diag && *diag && (ls_verbose || !p->mod))
		fprintf(stderr, "%s", diag);
	if (!p->mod) {
		snprintf(err, errlen, "probe file %s does not compile (libbcc's diagnostic above gives "
		    "file:line); fix the probe or point --probes-dir at a working copy", p->path);
		goto out;
	}

	if (check_maps(p, ops, err, errlen) < 0)
		goto out;
	log = malloc(LS_LOG_SIZE);
	n = bpf_num_functions(p->mod);
	for (size_t i = 0; i < n; i++) {
		const char *fn = bpf_function_name(p->mod, i);
		struct ls_prog *pr;
		char cat[64], ev[64];
		int fd;

		int type, config = -1;

		if (fn && !strncmp(fn, LS_SWEV_PREFIX, strlen(LS_SWEV_PREFIX))) {
			config = swev_config(fn + strlen(LS_SWEV_PREFIX));
			if (config < 0) {
				snprintf(err, errlen, "%s: %s() names no software perf event; known: "
				    "page_faults_min, page_faults_maj, page_faults, context_switches, "
				    "cpu_migrations, cpu_clock, task_clock", p->path, fn);
				goto out;
			}
			cat[0] = '\0';
			snprintf(ev, sizeof(ev), "%s", fn + strlen(LS_SWEV_PREFIX));
			type = BPF_PROG_TYPE_PERF_EVENT;
		} else if (fn && fn_to_tracepoint(fn, cat, sizeof(cat), ev, sizeof(ev))) {
			type = cat[0] ? BPF_PROG_TYPE_TRACEPOINT : BPF_PROG_TYPE_RAW_TRACEPOINT;
		} else {
			continue;
		}
		log[0] = '\0';
		fd = bcc_func_load(p->mod, type, fn,
		    bpf_function_start(p->mod, fn), (int)bpf_function_size(p->mod, fn),
		    bpf_module_license(p->mod), bpf_module_kern_version(p->mod),
		    ls_verbose > 1 ? 1 : 0, log, LS_LOG_SIZE, NULL, -1);
		if (fd < 0) {
			char where[512];

			fprintf(stderr, "%s\n", tail_lines(log, 25));
			verifier_where(log, src, where, sizeof(where));
			snprintf(err, errlen, "the verifier of kernel %s rejected %s() from %s%s%s (%s; "
			    "its log is above): simplify the probe so every path is bounded and "
			    "every map value is checked for NULL before any use", h->kernel, fn,
			    p->path, where[0] ? ", stopping at " : "", where, strerror(errno));
			goto out;
		}
		pr = realloc(p->progs, (p->nprogs + 1) * sizeof(*p->progs));
		if (!pr) {
			close(fd);
			goto out;
		}
		p->progs = pr;
		pr = &p->progs[p->nprogs++];
		pr->fn = strdup(fn);
		snprintf(pr->cat, sizeof(pr->cat), "%s", cat);
		snprintf(pr->ev, sizeof(pr->ev), "%s", ev);
		pr->prog_fd = fd;
		pr->link_fd = -1;
		pr->swev = config;
		pr->cpu_fds = NULL;
		pr->ncpu_fds = 0;
	}
	if (!p->nprogs) {
		snprintf(err, errlen, "probe file %s defines no TRACEPOINT_PROBE(category, event) "
		    "(nor RAW_TRACEPOINT_PROBE or LS_SOFTWARE_EVENT_PROBE): there is nothing to attach", p->path);
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < cf.n; i++)
		free(cf.v[i]);
	free(text);
	free(src);
	free(diag);
	free(log);
	return rc;
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct ls_probe *p = ctx;

	p->events_seen++;
	if (p->ops->event)
		p->ops->event(p, data, size);
	return 0;
}

/*
 * perf_cb - a perf buffer's raw sample follows a 4-byte size, so the record
 * is only 4-byte aligned and the modules' structs hold u64s: copy it to an
 * aligned buffer first (UBSan found the misaligned reads)
 */
static void perf_cb(void *ctx, void *data, int size)
{
	_Alignas(16) unsigned char rec[LS_EVENT_MAX];

	if (size <= 0 || (size_t)size > sizeof(rec)) {
		((struct ls_probe *)ctx)->perf_lost++;	/* no module sends one this big */
		return;
	}
	memcpy(rec, data, (size_t)size);
	ringbuf_cb(ctx, rec, (size_t)size);
}

static void perf_lost_cb(void *ctx, uint64_t lost)
{
	struct ls_probe *p = ctx;

	p->perf_lost += lost;
}

/* open_events - the probe's ls_events channel: a ring buffer, or per-CPU perf buffers */
static int open_events(struct ls_probe *p, char *err, size_t errlen)
{
	int fd = bpf_table_fd(p->mod, "ls_events");
	struct perf_readers *pr;
	int ncpu = ls_nr_possible_cpus();

	if (fd < 0 || !p->ops->event)
		return 0;
	if (bpf_table_type(p->mod, "ls_events") == BPF_MAP_TYPE_RINGBUF) {
		p->ringbuf = bpf_new_ringbuf(fd, ringbuf_cb, p);
		if (!p->ringbuf) {
			snprintf(err, errlen, "cannot open the ring buffer of %s: %s", p->path, strerror(errno));
			return -1;
		}
		return 0;
	}
	pr = calloc(1, sizeof(*pr));
	pr->r = calloc(ncpu, sizeof(*pr->r));
	for (int c = 0; c < ncpu; c++) {
		/* a wake-up per record would interrupt the monitored CPU: see ls_emit() */
		struct bcc_perf_buffer_opts opts = { .pid = -1, .cpu = c,
		    .wakeup_events = LS_PERF_WAKEUP };
		/* sized like the ring buffer, per CPU (--trace-buffer applies to both paths) */
		struct perf_reader *rd = bpf_open_perf_buffer_opts(perf_cb, perf_lost_cb, p,
		    (int)event_pages(p->run), &opts);
		int rfd;

		if (!rd)
			continue;	/* offline CPU */
		rfd = perf_reader_fd(rd);
		bpf_update_elem(fd, &c, &rfd, 0);
		pr->r[pr->n++] = rd;
	}
	p->perf = pr;
	return 0;
}

/* tp_find - a tracepoint of the probe; a raw one (cat "") is named by its event alone */
static struct ls_tp *tp_find(struct ls_probe *p, const char *cat, const char *ev)
{
	for (int i = 0; i < p->ntps; i++)
		if ((!cat[0] || !strcmp(p->tps[i].cat, cat)) && !strcmp(p->tps[i].ev, ev))
			return &p->tps[i];
	return NULL;
}

static bool tp_optional(struct ls_probe *p, const char *cat, const char *ev)
{
	struct ls_tp *tp = tp_find(p, cat, ev);

	return tp && tp->optional;
}

static void tp_mark_missing(struct ls_probe *p, const char *cat, const char *ev)
{
	struct ls_tp *tp = tp_find(p, cat, ev);

	if (tp)
		tp->present = false;
}

/*
 * attach_swev - a software-event program on every monitored CPU, run on
 * each occurrence (sample period 1), or for cpu_clock/task_clock at
 * p->sample_freq samples per second when the module set it
 */
static int attach_swev(struct ls_probe *p, struct ls_prog *pr, char *err, size_t errlen)
{
	int ncpu = ls_nr_possible_cpus();

	pr->cpu_fds = calloc(ncpu > 0 ? ncpu : 1, sizeof(int));
	if (!pr->cpu_fds)
		return -1;
	for (int c = 0; c < ncpu && c < LS_MAX_CPUS; c++) {
		int fd;

		if (!ls_cpuset_isset(p->cpus, c))
			continue;
		/* clocks are sampled at the module's frequency; other events on every occurrence */
		bool clock = pr->swev == PERF_COUNT_SW_CPU_CLOCK || pr->swev == PERF_COUNT_SW_TASK_CLOCK;

		if (clock && p->sample_freq)
			fd = bpf_attach_perf_event(pr->prog_fd, PERF_TYPE_SOFTWARE, pr->swev, 0,
			    p->sample_freq, -1, c, -1);
		else
			fd = bpf_attach_perf_event(pr->prog_fd, PERF_TYPE_SOFTWARE, pr->swev, 1, 0, -1,
			    c, -1);
		if (fd < 0) {
			snprintf(err, errlen, "cannot attach %s() to the software perf event %s on "
			    "CPU %d (%s): the kernel needs CONFIG_PERF_EVENTS, and "
			    "kernel.perf_event_paranoid must allow system-wide events for this user",
			    pr->fn, pr->ev, c, strerror(errno));
			return -1;
		}
		pr->cpu_fds[pr->ncpu_fds++] = fd;
	}
	ls_debug("%s: attached software event %s on %d CPUs", p->ops->name, pr->ev, pr->ncpu_fds);
	return 0;
}

/*
 * ls_probe_attach - attach every loaded program to its tracepoint; all or
 * nothing, except that an optional tracepoint the kernel refuses is noted
 */
int ls_probe_attach(struct ls_probe *p, char *err, size_t errlen)
{
	if (open_events(p, err, errlen) < 0)
		return -1;
	for (int i = 0; i < p->nprogs; i++) {
		struct ls_prog *pr = &p->progs[i];

		if (pr->swev >= 0) {
			if (attach_swev(p, pr, err, errlen) < 0)
				return -1;
			continue;
		}
		if (pr->cat[0])
			pr->link_fd = bpf_attach_tracepoint(pr->prog_fd, pr->cat, pr->ev);
		else
			pr->link_fd = bpf_attach_raw_tracepoint(pr->prog_fd, pr->ev);
		/*
		 * A kernel older than the tracepoint's current form refuses a
		 * program that reads arguments it lacks (kfree_skb's reason
		 * before 5.17): optional ones are then noted as not available.
		 */
		if (pr->link_fd < 0 && tp_optional(p, pr->cat, pr->ev)) {
			ls_warn("%s: kernel %s refused %s() on tracepoint %s (%s): not measured",
			    p->ops->name, p->run->host->kernel, pr->fn, pr->ev, strerror(errno));
			tp_mark_missing(p, pr->cat, pr->ev);
			continue;
		}
		if (pr->link_fd < 0) {
			snprintf(err, errlen, "cannot attach %s() to tracepoint %s:%s (%s): check that "
			    "the kernel has CONFIG_BPF_EVENTS and that nothing else holds the tracepoint",
			    pr->fn, pr->cat, pr->ev, strerror(errno));
			return -1;
		}
		ls_debug("%s: attached %s%s%s", p->ops->name, pr->cat[0] ? pr->cat : "raw tracepoint ",
		    pr->cat[0] ? ":" : "", pr->ev);
	}
	return 0;
}

/*
 * ls_probe_poll - hand pending events to the module; waits at most
 * timeout_ms. The probes do not wake us per record (ls_emit()), so what
 * arrived without a wake-up is read after the wait.
 */
int ls_probe_poll(struct ls_probe *p, int timeout_ms)
{
	struct perf_readers *pr = p->perf;

	if (p->ringbuf) {
		bpf_poll_ringbuf(p->ringbuf, timeout_ms);	/* a signal cuts the wait short */
		return bpf_consume_ringbuf(p->ringbuf);
	}
	if (pr && pr->n) {
		perf_reader_poll(pr->n, pr->r, timeout_ms);
		return perf_reader_consume(pr->n, pr->r);
	}
	if (timeout_ms > 0)
		usleep(timeout_ms * 1000);
	return 0;
}

/* ls_probe_table_fd - a map of the probe by name, -1 when it has none */
int ls_probe_table_fd(const struct ls_probe *p, const char *name)
{
	return p->mod ? bpf_table_fd(p->mod, name) : -1;
}

/*
 * ls_probe_read_percpu - one key of a per-CPU map: values receives one
 * value_size slot per possible CPU (libbcc pads each to 8 bytes)
 */
int ls_probe_read_percpu(const struct ls_probe *p, const char *table, uint32_t key,
    void *values, size_t value_size)
{
	int fd = ls_probe_table_fd(p, table), ncpu = ls_nr_possible_cpus();
	size_t stride = (value_size + 7) & ~(size_t)7;
	char *buf;
	int rc;

	/* the kernel writes one value per CPU: a different size would overrun buf */
	if (fd < 0 || bpf_table_leaf_size(p->mod, table) != value_size)
		return -1;
	buf = calloc(ncpu, stride);
	if (!buf)
		return -1;
	rc = bpf_lookup_elem(fd, &key, buf);
	if (rc == 0)
		for (int c = 0; c < ncpu; c++)
			memcpy((char *)values + (size_t)c * value_size, buf + (size_t)c * stride, value_size);
	free(buf);
	return rc;
}

/*
 * ls_probe_sum_percpu - one key of a per-CPU map whose value is all u64
 * counters, summed over the CPUs into out (zeroed on error)
 */
int ls_probe_sum_percpu(const struct ls_probe *p, const char *table, uint32_t key, void *out,
    size_t value_size)
{
	int ncpu = ls_nr_possible_cpus(), rc;
	char *v = calloc(ncpu, value_size);
	uint64_t *sum = out;

	memset(out, 0, value_size);
	if (!v)
		return -1;
	rc = ls_probe_read_percpu(p, table, key, v, value_size);
	for (int c = 0; rc == 0 && c < ncpu; c++)
		for (size_t k = 0; k < value_size / sizeof(uint64_t); k++)
			sum[k] += ((uint64_t *)(v + (size_t)c * value_size))[k];
	free(v);
	return rc;
}

/*
 * ls_probe_read_hash - every entry of a hash map as an array of entsize-byte
 * records, the key at offset 0 and the value at voff; *n gets the count.
 * Caller frees.
 */
void *ls_probe_read_hash(const struct ls_probe *p, const char *name, size_t entsize, size_t voff,
    int *n)
{
	int fd = ls_probe_table_fd(p, name), cap = 256;
	size_t ks = bpf_table_key_size(p->mod, name), vs = bpf_table_leaf_size(p->mod, name);
	char *arr = calloc(cap, entsize), key[64], next[64];
	bool first = true;

	*n = 0;
	if (fd < 0 || !arr || ks > sizeof(key) || ks > voff || voff + vs > entsize)
		return arr;
	while (bpf_get_next_key(fd, first ? NULL : key, next) == 0) {
		first = false;
		memcpy(key, next, ks);
		if (*n == cap) {
			char *na = realloc(arr, (size_t)(cap *= 2) * entsize);

			if (!na)
				break;
			arr = na;
		}
		memset(arr + (size_t)*n * entsize, 0, entsize);
		memcpy(arr + (size_t)*n * entsize, key, ks);
		if (bpf_lookup_elem(fd, key, arr + (size_t)*n * entsize + voff) == 0)
			(*n)++;
	}
	return arr;
}

/*
 * ls_probe_lost - events the kernel side could not deliver; per_cpu (possible
 * CPUs entries, or NULL) accumulates them by CPU
 */
uint64_t ls_probe_lost(const struct ls_probe *p, uint64_t *per_cpu)
{
	int ncpu = ls_nr_possible_cpus();
	uint64_t *v = calloc(ncpu, sizeof(*v)), sum = 0;

	/*
	 * ls_lost counts every record that did not fit, per CPU, on both paths;
	 * a perf buffer reports the same losses to the reader again (perf_lost),
	 * which is therefore not added
	 */
	if (p->perf_lost)
		ls_debug("%s: the perf buffers reported %llu lost records", p->ops->name,
		    (unsigned long long)p->perf_lost);

	if (v && ls_probe_read_percpu(p, "ls_lost", 0, v, sizeof(*v)) == 0)
		for (int c = 0; c < ncpu; c++) {
			sum += v[c];
			if (per_cpu)
				per_cpu[c] += v[c];
		}
	free(v);
	return sum;
}

/* ls_probe_gate - open (1) or close (0) the probe's gate; see probes/latencyscope.h */
int ls_probe_gate(struct ls_probe *p, uint32_t on)
{
	int fd;
	uint32_t zero = 0;

	if (!p->mod)	/* a module not measured on this kernel has no gate */
		return 0;
	fd = ls_probe_table_fd(p, "ls_gate");
	if (on)
		ls_probe_set_u64(p, "ls_start", ls_now_ns(CLOCK_MONOTONIC));

	return fd < 0 ? 0 : bpf_update_elem(fd, &zero, &on, 0);
}

/* ls_probe_cflag - a module's own compiler flag, for its prepare() */
void ls_probe_cflag(struct ls_probe *p, const char *fmt, ...)
{
	va_list ap;
	char *f;

	if (p->ncflags >= (int)(sizeof(p->cflags) / sizeof(p->cflags[0])))
		return;
	va_start(ap, fmt);
	if (vasprintf(&f, fmt, ap) < 0)
		abort();
	va_end(ap);
	p->cflags[p->ncflags++] = f;
}

/* ls_probe_set_u64 - key 0 of a one-slot array map (a floor, a setting) */
int ls_probe_set_u64(struct ls_probe *p, const char *table, uint64_t v)
{
	int fd = ls_probe_table_fd(p, table);
	uint32_t zero = 0;

	if (fd < 0) {
		ls_err("%s: the probe file has no map %s", p->path, table);
		errno = ENOENT;
		return -1;
	}
	return bpf_update_elem(fd, &zero, &v, 0);
}

/* close_link - a perf event (tracepoint) or a raw tracepoint link: closing detaches */
struct link {
	int	 fd;
	bool	 raw;	/* a raw tracepoint: no perf event to disable first */
};

static void *close_link(void *arg)
{
	const struct link *l = arg;

	if (l->raw)
		close(l->fd);
	else
		bpf_close_perf_event_fd(l->fd);
	return NULL;
}

/*
 * ls_probe_detach - detach the programs but keep the maps readable. Each
 * detach waits for an RCU grace period, so they run in parallel.
 */
void ls_probe_detach(struct ls_probe *p)
{
	int n = p->nprogs ? p->nprogs : 1;
	pthread_t *th = calloc(n, sizeof(*th));
	bool *started = calloc(n, sizeof(*started));
	struct link *links = calloc(n, sizeof(*links));

	for (int i = 0; i < p->nprogs; i++) {
		struct link one;

		for (int k = 0; k < p->progs[i].ncpu_fds; k++)
			bpf_close_perf_event_fd(p->progs[i].cpu_fds[k]);
		p->progs[i].ncpu_fds = 0;
		if (p->progs[i].link_fd < 0)
			continue;
		one.fd = p->progs[i].link_fd;
		one.raw = !p->progs[i].cat[0];
		if (th && started && links) {
			links[i] = one;
			started[i] = pthread_create(&th[i], NULL, close_link, &links[i]) == 0;
		}
		if (!started || !started[i])
			close_link(&one);
		p->progs[i].link_fd = -1;
	}
	for (int i = 0; i < p->nprogs; i++)
		if (started && started[i])
			pthread_join(th[i], NULL);
	free(th);
	free(started);
	free(links);
}

/* ls_probe_close - detach and free everything; safe on a half-opened probe */
void ls_probe_close(struct ls_probe *p)
{
	struct perf_readers *pr = p->perf;

	ls_probe_detach(p);
	for (int i = 0; i < p->nprogs; i++) {
		if (p->progs[i].prog_fd >= 0)
			close(p->progs[i].prog_fd);
		free(p->progs[i].fn);
		free(p->progs[i].cpu_fds);
	}
	if (p->ringbuf)
		bpf_free_ringbuf(p->ringbuf);
	if (pr) {
		for (int i = 0; i < pr->n; i++)
			perf_reader_free(pr->r[i]);
		free(pr->r);
		free(pr);
	}
	if (p->ops && p->ops->cleanup)
		p->ops->cleanup(p);	/* what priv points to; priv itself is freed here */
	free(p->priv);
	if (p->mod)
		bpf_module_destroy(p->mod);
	for (int i = 0; i < p->ncflags; i++)
		free(p->cflags[i]);
	free(p->progs);
	free(p->tps);
	free(p->path);
	free(p->not_measured);
	memset(p, 0, sizeof(*p));
}
