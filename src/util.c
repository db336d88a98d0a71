// SPDX-License-Identifier: GPL-2.0-only
/* util.c - CPU and PID lists, durations, files, formatting and messages */

#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "latencyscope.h"

int ls_verbose;

/* ls_cpuset_zero - empty the set */
void ls_cpuset_zero(struct ls_cpuset *s)
{
	memset(s, 0, sizeof(*s));
}

/* ls_cpuset_set - add cpu to the set */
void ls_cpuset_set(struct ls_cpuset *s, int cpu)
{
	if (cpu >= 0 && cpu < LS_MAX_CPUS)
		s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

/* ls_cpuset_isset - is cpu in the set */
bool ls_cpuset_isset(const struct ls_cpuset *s, int cpu)
{
	if (cpu < 0 || cpu >= LS_MAX_CPUS)
		return false;
	return s->bits[cpu / 64] & (1ULL << (cpu % 64));
}

/* ls_cpuset_count - number of CPUs in the set */
int ls_cpuset_count(const struct ls_cpuset *s)
{
	int n = 0;

	for (size_t i = 0; i < LS_MAX_CPUS / 64; i++)
		n += __builtin_popcountll(s->bits[i]);
	return n;
}

/* ls_cpuset_subset - every CPU of a is in b (false when a is empty) */
bool ls_cpuset_subset(const struct ls_cpuset *a, const struct ls_cpuset *b)
{
	if (ls_cpuset_count(a) == 0)
		return false;
	for (size_t i = 0; i < LS_MAX_CPUS / 64; i++)
		if (a->bits[i] & ~b->bits[i])
			return false;
	return true;
}

/* parse_uint - a decimal number at *p, advancing p; -1 when there is none */
static long parse_uint(const char **p, long max)
{
	long v = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		if (v > max)
			return -2;
		(*p)++;
	}
	return v;
}

/*
 * ls_cpulist_parse - parse the kernel's CPU list syntax ("0-3,8"). Trailing
 * whitespace is allowed (sysfs files end in a newline); an empty list only
 * when allow_empty.
 */
int ls_cpulist_parse(const char *s, struct ls_cpuset *set, bool allow_empty,
    char *err, size_t errlen)
{
	const char *p = s;
	size_t len = strlen(s);

	ls_cpuset_zero(set);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		if (allow_empty)
			return 0;
		snprintf(err, errlen, "empty CPU list: give CPUs like 4-7 or 0,2,4");
		return -1;
	}
	while (p < s + len) {
		long a, b;

		a = parse_uint(&p, LS_MAX_CPUS - 1);
		if (a == -2) {
			snprintf(err, errlen, "CPU number too large in '%s' (at most %d)", s, LS_MAX_CPUS - 1);
			return -1;
		}
		if (a < 0) {
			snprintf(err, errlen, "malformed CPU list '%.*s' at '%.*s': expected a CPU number "
			    "(lists look like 4-7 or 0-3,8)", (int)len, s, (int)(s + len - p), p);
			return -1;
		}
		b = a;
		if (*p == '-') {
			p++;
			b = parse_uint(&p, LS_MAX_CPUS - 1);
			if (b == -2) {
				snprintf(err, errlen, "CPU number too large in '%s' (at most %d)", s, LS_MAX_CPUS - 1);
				return -1;
			}
			if (b < 0) {
				snprintf(err, errlen, "malformed CPU range in '%.*s': a range needs an end "
				    "(like 4-7)", (int)len, s);
				return -1;
			}
			if (b < a) {
				snprintf(err, errlen, "CPU range %ld-%ld in '%.*s' is reversed: write %ld-%ld",
				    a, b, (int)len, s, b, a);
				return -1;
			}
		}
		for (long c = a; c <= b; c++)
			ls_cpuset_set(set, (int)c);
		if (p == s + len)
			break;
		if (*p != ',' || p + 1 == s + len) {
			snprintf(err, errlen, "malformed CPU list '%.*s' at '%.*s': separate CPUs and ranges "
			    "with commas, no spaces (like 0-3,8)", (int)len, s, (int)(s + len - p), p);
			return -1;
		}
		p++;
	}
	return 0;
}

/* ls_cpuset_hexmask - the set as sysfs writes a CPU mask ("f0"), "0" when empty; caller frees */
char *ls_cpuset_hexmask(const struct ls_cpuset *s)
{
	char mask[LS_MAX_CPUS / 4 + 2], *m = mask;
	int top = -1;

	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(s, c))
			top = c;
	for (int d = top < 0 ? 0 : top / 4; d >= 0; d--) {	/* a nibble per 4 CPUs, high first */
		int v = 0;

		for (int b = 0; b < 4; b++)
			v |= ls_cpuset_isset(s, d * 4 + b) << b;
		*m++ = "0123456789abcdef"[v];
	}
	*m = '\0';
	return ls_xstrdup(mask);
}

/* ls_cpulist_format - the set in list form ("0-3,8"), "" when empty; caller frees */
char *ls_cpulist_format(const struct ls_cpuset *s)
{
	size_t cap = 64, len = 0;
	char *buf = ls_xmalloc(cap);

	buf[0] = '\0';
	for (int c = 0; c < LS_MAX_CPUS; c++) {
		int e = c;
		char item[32];
		int n;

		if (!ls_cpuset_isset(s, c))
			continue;
		while (e + 1 < LS_MAX_CPUS && ls_cpuset_isset(s, e + 1))
			e++;
		if (e == c)
			n = snprintf(item, sizeof(item), "%s%d", len ? "," : "", c);
		else
			n = snprintf(item, sizeof(item), "%s%d-%d", len ? "," : "", c, e);
		if (len + n + 1 > cap) {
			char *nb;

			cap = (len + n + 1) * 2;
			nb = ls_xrealloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + len, item, n + 1);
		len += n;
		c = e;
	}
	return buf;
}

/* ls_read_cpulist_file - read a sysfs CPU list; a missing file is an empty set */
int ls_read_cpulist_file(const char *path, struct ls_cpuset *set)
{
	char err[256], *s = ls_read_file(path, NULL);
	int rc;

	ls_cpuset_zero(set);
	if (!s)
		return errno == ENOENT ? 0 : -1;
	rc = ls_cpulist_parse(s, set, true, err, sizeof(err));
	free(s);
	return rc;
}

/* ls_pidlist_parse - "12,34" into pids; process ids only, no ranges */
int ls_pidlist_parse(const char *s, int *pids, int *npids, char *err, size_t errlen)
{
	const char *p = s;

	if (!*s) {
		snprintf(err, errlen, "empty PID list: give process ids like 1234 or 1234,5678");
		return -1;
	}
	while (*p) {
		long v = parse_uint(&p, INT_MAX);

		if (v == -2 || v == 0) {
			snprintf(err, errlen, "invalid process id in '%s': ids are between 1 and the "
			    "kernel's pid_max", s);
			return -1;
		}
		if (v < 0) {
			snprintf(err, errlen, "malformed PID list '%s' at '%s': expected a process id "
			    "(lists look like 1234,5678)", s, p);
			return -1;
		}
		if (*npids >= LS_MAX_PIDS) {
			snprintf(err, errlen, "too many process ids (at most %d)", LS_MAX_PIDS);
			return -1;
		}
		pids[(*npids)++] = (int)v;
		if (!*p)
			break;
		if (*p != ',' || !p[1]) {
			snprintf(err, errlen, "malformed PID list '%s' at '%s': separate ids with commas, "
			    "no spaces (like 1234,5678)", s, p);
			return -1;
		}
		p++;
	}
	return 0;
}

/*
 * ls_parse_duration_ns - "250", "250ns", "20us", "1.5ms", "2s" into
 * nanoseconds (a bare number is nanoseconds)
 */
int ls_parse_duration_ns(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || v > 1e18) {
		snprintf(err, errlen, "invalid duration '%s': use a number with ns, us, ms or s "
		    "(like 20us)", s);
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].sfx) == 0) {
			/* checked after the unit: 1e11s would wrap to a tiny number of ns */
			if (v * units[i].mul > 1e18) {
				snprintf(err, errlen, "duration '%s' is out of range: at most 1e18 ns "
				    "(about 31 years; like 20us or 10s)", s);
				return -1;
			}
			*ns = (uint64_t)(v * units[i].mul + 0.5);
			return 0;
		}
	}
	snprintf(err, errlen, "unknown unit '%s' in '%s': use ns, us, ms or s", end, s);
	return -1;
}

/* ls_read_file - whole file, NUL-terminated; caller frees; NULL with errno */
char *ls_read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096, len = 0, n;
	char *buf;

	if (!f)
		return NULL;
	buf = ls_xmalloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			char *nb = ls_xrealloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

/* ls_comm - a kernel comm of len bytes (maybe not NUL-terminated) as a C string in buf[len + 1] */
const char *ls_comm(char *buf, const char *comm, size_t len)
{
	memcpy(buf, comm, len);
	buf[len] = '\0';
	return buf;
}

/*
 * The allocation policy: every allocation in src/ goes through ls_x*. A
 * tracing host that runs out of memory cannot get an honest report, so the
 * run says so and exits 3 at once (the kernel detaches every program as the
 * process ends); callers never check for NULL.
 */
void ls_oom(void)
{
	static const char msg[] = "latencyscope: out of memory: no report (exit 3)\n";
	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)n;
	_exit(LS_EXIT_ERROR);
}

void *ls_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		ls_oom();
	return p;
}

void *ls_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		ls_oom();
	return p;
}

void *ls_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		ls_oom();
	return p;
}

char *ls_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		ls_oom();
	return d;
}

char *ls_xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		ls_oom();
	return d;
}

/* ls_grow - room for one more element in a malloc'ed array of n */
void *ls_grow(void *arr, int n, size_t size)
{
	return ls_xrealloc(arr, (size_t)(n + 1) * size);
}

/* ls_list_has - whether a comma-separated list names name */
bool ls_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *t = list; t && *t; t = strchr(t, ',') ? strchr(t, ',') + 1 : NULL)
		if (!strncmp(t, name, n) && (t[n] == ',' || t[n] == '\0'))
			return true;
	return false;
}

/* ls_edit_distance - Levenshtein distance of two short names (a typo's distance) */
int ls_edit_distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), row[64], prev, tmp;

	if (la >= 64 || lb >= 64)
		return 64;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* ls_housekeeping - online CPUs that are not monitored, in list form ("" when none) */
char *ls_housekeeping(const struct ls_cpuset *online, const struct ls_cpuset *monitored)
{
	struct ls_cpuset hk = *online;

	for (int i = 0; i < LS_MAX_CPUS / 64; i++)
		hk.bits[i] &= ~monitored->bits[i];
	return ls_cpulist_format(&hk);
}

/* ls_read_u64_file - a file holding one number */
int ls_read_u64_file(const char *path, uint64_t *v)
{
	char *s = ls_read_file(path, NULL), *end;
	int rc = -1;

	if (!s)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (end != s && !errno)
		rc = 0;
	free(s);
	return rc;
}

/* ls_fmt_ns - a duration for people: "850 ns", "12.4 µs", "3.20 ms", "1.50 s" */
void ls_fmt_ns(char *buf, size_t len, double ns, bool ascii)
{
	const char *us = ascii ? "us" : "\xc2\xb5s";

	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e4)
		snprintf(buf, len, "%.2f %s", ns / 1e3, us);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f %s", ns / 1e3, us);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
}

/* ls_fmt_usd - dollars as every money figure is shown: "1,234,567.89" */
void ls_fmt_usd(char *buf, size_t len, double usd)
{
	uint64_t cents = usd > 0 && usd < 1e17 ? (uint64_t)(usd * 100 + 0.5) : 0;
	char whole[32];

	ls_fmt_count(whole, sizeof(whole), cents / 100);
	snprintf(buf, len, "%s.%02u", whole, (unsigned)(cents % 100));
}

/* ls_fmt_count - a count with thousands separators: "1,234,567" */
void ls_fmt_count(char *buf, size_t len, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n && (size_t)o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
}

/* ls_now_ns - clock_gettime in nanoseconds */
uint64_t ls_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ls_wallclock - a kernel monotonic timestamp as UTC wall-clock time */
void ls_wallclock(const struct ls_run *r, uint64_t mono_ns, char *buf, size_t len)
{
	uint64_t real = r->real_start_ns + (mono_ns - r->mono_start_ns);
	time_t sec = (time_t)(real / 1000000000ULL);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06lluZ", base, (unsigned long long)(real % 1000000000ULL / 1000));
}

/*
 * ls_strdup_printable - a copy with control characters as \xNN: task names
 * are chosen by whoever starts the task, and one named with escape
 * sequences must not drive the terminal a report is read on
 */
char *ls_strdup_printable(const char *s)
{
	size_t n = 0;
	char *d, *q;

	if (!s)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += *p < 0x20 || *p == 0x7f ? 4 : 1;
	d = ls_xmalloc(n + 1);
	q = d;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			q += sprintf(q, "\\x%02x", *p);
		else
			*q++ = (char)*p;
	}
	*q = '\0';
	return d;
}

/* ls_strdup_printf - asprintf under the allocation policy */
char *ls_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		ls_oom();
	va_end(ap);
	return s;
}

__attribute__((format(printf, 2, 0)))
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "latencyscope: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* ls_err - an error for the user: what went wrong and how to fix it */
void ls_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

/* ls_warn - something the user should know that does not stop the run */
void ls_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

/* ls_debug - shown with -v */
void ls_debug(const char *fmt, ...)
{
	va_list ap;

	if (!ls_verbose)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

/* ls_process_running - a process whose comm (/proc/PID/comm) is exactly comm */
bool ls_process_running(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char path[300], *c;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		c = ls_read_file(path, NULL);
		found = c && !strncmp(c, comm, strlen(comm)) && !strcmp(c + strlen(comm), "\n");
		free(c);
	}
	if (d)
		closedir(d);
	return found;
}
