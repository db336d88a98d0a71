// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe-source.c - a probe as text, before libbcc sees it: which
 * tracepoints it uses (and which are optional), the -D flags that splice the
 * run's filters in, `#include "x.h"` spliced from the probes directory, and
 * the probe line a verifier log points at. No BPF here: tests/unit covers it.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf_perf_event.h>

#include "latencyscope.h"
#include "probe.h"

static bool ls_env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

bool ls_kernel_at_least(const char *release, int maj, int min)
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
	struct ls_tp *tp = ls_xrealloc(p->tps, (p->ntps + 1) * sizeof(*p->tps));

	p->tps = tp;
	tp = &p->tps[p->ntps++];
	memset(tp, 0, sizeof(*tp));
	snprintf(tp->ev, sizeof(tp->ev), "%s", ev);
	return tp;
}

int ls_probe_scan_tracepoints(struct ls_probe *p, const char *text, const struct ls_host *h)
{
	const char *s = text;

	while ((s = strstr(s, "TRACEPOINT_PROBE("))) {
		char cat[64], ev[64], guard[160];
		bool raw = s - text >= 4 && !strncmp(s - 4, "RAW_", 4);
		struct ls_tp *tp;

		s += strlen("TRACEPOINT_PROBE(");
		if (raw || sscanf(s, " %63[A-Za-z0-9_] , %63[A-Za-z0-9_] )", cat, ev) != 2)
			continue;
		tp = tp_add(p, ev);
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
		tp = tp_add(p, ev);
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

/* ls_cflags_add - one more compiler flag (takes s); the list grows, nothing is dropped */
void ls_cflags_add(struct ls_cflags *c, char *s)
{
	c->v = ls_grow(c->v, c->n, sizeof(*c->v));
	c->v[c->n++] = s;
}

void ls_cflags_free(struct ls_cflags *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
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
	m = ls_xmalloc(cap);
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
			m = ls_xrealloc(m, cap);
		}
		memcpy(m + len, item, n + 1);
		len += n;
		c = e;
	}
	memcpy(m + len, ")", 2);
	return m;
}

bool ls_fn_to_tracepoint(const char *fn, char *cat, size_t catlen, char *ev, size_t evlen)
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
const char *ls_tail_lines(const char *s, int n)
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
void ls_verifier_where(const char *log, const char *src, char *out, size_t outlen)
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
		*buf = ls_xrealloc(*buf, *cap);
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
char *ls_expand_includes(const char *text, const char *dir, const char *path, int depth,
    char *err, size_t errlen)
{
	size_t len = 0, cap = strlen(text) + 256;
	char *out = ls_xmalloc(cap), name[256], hdr[4096];
	const char *line = text;
	int lineno = 1;

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
			char *sub = ls_expand_includes(inc, dir, hdr, depth + 1, err, errlen);
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
unsigned ls_event_pages(const struct ls_run *r)
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

/*
 * ls_probe_engine_flags - the -D flags every probe gets (probes/latencyscope.h
 * lists them): filters, sizes, the kernel's features, which of the probe's
 * tracepoints exist; the module's own come after, from its prepare()
 */
void ls_probe_engine_flags(struct ls_cflags *cf, const struct ls_probe *p, const struct ls_run *r)
{
	const struct ls_host *h = r->host;
	char *m;

	ls_cflags_add(cf, ls_strdup_printf("-I%s", r->probes_dir));
	ls_cflags_add(cf, ls_xstrdup("-DLS_BPF=1"));
	if ((m = cpu_match_macro(&r->cpus, h->nr_possible)))
		ls_cflags_add(cf, m);
	if (r->opts->npids)	/* which processes: bits in ls_pidbits (ls_probe_open) */
		ls_cflags_add(cf, ls_xstrdup("-DLS_PID_FILTER=1"));
	ls_cflags_add(cf, ls_strdup_printf("-DLS_PID_MAX=%llu", (unsigned long long)h->pid_max));
	ls_cflags_add(cf, ls_strdup_printf("-DLS_NR_CPUS=%d", ls_nr_possible_cpus()));
	ls_cflags_add(cf, ls_strdup_printf("-DLS_PERF_SAMPLE_PERIOD_OFF=%zu",
	    offsetof(struct bpf_perf_event_data, sample_period)));
	ls_cflags_add(cf, ls_strdup_printf("-DLS_PERF_ADDR_OFF=%zu", offsetof(struct bpf_perf_event_data, addr)));
#if defined(__x86_64__)
	/* the interrupted registers, for probes that read the user stack themselves */
	ls_cflags_add(cf, ls_strdup_printf("-DLS_PERF_REGS_SP_OFF=%zu",
	    offsetof(struct bpf_perf_event_data, regs) + offsetof(struct pt_regs, rsp)));
	ls_cflags_add(cf, ls_strdup_printf("-DLS_PERF_REGS_BP_OFF=%zu",
	    offsetof(struct bpf_perf_event_data, regs) + offsetof(struct pt_regs, rbp)));
	ls_cflags_add(cf, ls_strdup_printf("-DLS_PERF_REGS_CS_OFF=%zu",
	    offsetof(struct bpf_perf_event_data, regs) + offsetof(struct pt_regs, cs)));
#endif
	ls_cflags_add(cf, ls_strdup_printf("-DLS_EVENT_PAGES=%u", ls_event_pages(r)));
	if (r->timeline && r->timeline->on) {	/* probes add what only a timeline needs */
		ls_cflags_add(cf, ls_xstrdup("-DLS_TIMELINE=1"));
		ls_cflags_add(cf, ls_strdup_printf("-DLS_TRACE_THRESHOLD_NS=%lluULL",
		    (unsigned long long)r->timeline->threshold_ns));
	}
	/* LATENCYSCOPE_EVENTS=perf forces the pre-5.8 perf-buffer path (for testing it) */
	if (ls_kernel_at_least(h->kernel, 5, 8) && !ls_env_is("LATENCYSCOPE_EVENTS", "perf"))
		ls_cflags_add(cf, ls_xstrdup("-DLS_HAVE_RINGBUF=1"));
	for (int i = 0; i < p->ntps; i++)
		if (p->tps[i].present)
			ls_cflags_add(cf, ls_strdup_printf("-DLS_HAVE_TP_%s__%s=1", p->tps[i].cat, p->tps[i].ev));
}

/* ls_probe_cflag - a module's own compiler flag, for its prepare() */
void ls_probe_cflag(struct ls_probe *p, const char *fmt, ...)
{
	va_list ap;
	char *f;

	va_start(ap, fmt);
	if (vasprintf(&f, fmt, ap) < 0)
		ls_oom();
	va_end(ap);
	ls_cflags_add(&p->cflags, f);
}
