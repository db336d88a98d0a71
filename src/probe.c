// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe.c - the runtime probe engine: compile probes/<module>.c with libbcc
 * (its text and flags from probe-source.c), load every program it defines,
 * attach, gate, poll its event channel, detach and free. Its maps are read
 * by probe-maps.c.
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
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/perf_event.h>

#include "latencyscope.h"
#include "probe.h"

#define LS_SWEV_PREFIX "ls_swev__"	/* LS_SOFTWARE_EVENT_PROBE(name) in probes/latencyscope.h */

/*
 * The software perf events a probe can run on, by the name it gives them.
 * page_faults_kernel is page_faults in kernel mode only (exclude_user): the
 * kernel counts it after refusing faults taken with page faults disabled,
 * so it sees a system call's faults on user memory but not the faults of a
 * BPF program or perf reading a user stack on the task's behalf.
 */
static const struct ls_swev {
	const char *name;
	int	    config;
	bool	    kernel_only;
} ls_swevs[] = {
	{ "cpu_clock", PERF_COUNT_SW_CPU_CLOCK, false },
	{ "task_clock", PERF_COUNT_SW_TASK_CLOCK, false },
	{ "page_faults", PERF_COUNT_SW_PAGE_FAULTS, false },
	{ "page_faults_kernel", PERF_COUNT_SW_PAGE_FAULTS, true },
	{ "context_switches", PERF_COUNT_SW_CONTEXT_SWITCHES, false },
	{ "cpu_migrations", PERF_COUNT_SW_CPU_MIGRATIONS, false },
	{ "page_faults_min", PERF_COUNT_SW_PAGE_FAULTS_MIN, false },
	{ "page_faults_maj", PERF_COUNT_SW_PAGE_FAULTS_MAJ, false },
	{ "alignment_faults", PERF_COUNT_SW_ALIGNMENT_FAULTS, false },
	{ "emulation_faults", PERF_COUNT_SW_EMULATION_FAULTS, false },
};

/* swev_find - the software event of a name, NULL when unknown */
static const struct ls_swev *swev_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ls_swevs) / sizeof(ls_swevs[0]); i++)
		if (!strcmp(ls_swevs[i].name, name))
			return &ls_swevs[i];
	return NULL;
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
	if (len > 0 && (buf = ls_xcalloc(1, len + 1))) {
		rewind(tmp);
		if (fread(buf, 1, len, tmp) != (size_t)len)
			buf[0] = '\0';
	}
	fclose(tmp);
	return buf;
}

/*
 * read_probe - the probe's text, from a file trusted to become kernel code,
 * and its tracepoints: 1 when one it needs is missing (the module is then
 * reported "not measured"), -1 on error
 */
static int read_probe(struct ls_probe *p, char **text, char *err, size_t errlen)
{
	const struct ls_host *h = p->run->host;

	if (ls_trust_probe_file(p->run->probes_dir, p->path, err, errlen) < 0)
		return -1;
	if (!(*text = ls_read_file(p->path, NULL))) {
		snprintf(err, errlen, "cannot read probe file %s (%s): pass --probes-dir DIR or set "
		    "LATENCYSCOPE_PROBES_DIR to the directory that holds %s.c", p->path,
		    strerror(errno), p->ops->name);
		return -1;
	}
	if (ls_probe_scan_tracepoints(p, *text, h) < 0)
		return -1;
	for (int i = 0; i < p->ntps; i++) {
		if (!p->tps[i].present && !p->tps[i].optional) {
			p->not_measured = ls_strdup_printf("tracepoint %s:%s does not exist on kernel %s "
			    "(no %s/events/%s/%s)", p->tps[i].cat, p->tps[i].ev, h->kernel,
			    h->tracefs, p->tps[i].cat, p->tps[i].ev);
			return 1;
		}
	}
	return 0;
}

/*
 * probe_text - the probe as it compiles: the engine's flags and the
 * module's (its prepare()), and the text with its includes spliced
 */
static int probe_text(struct ls_probe *p, const char *text, struct ls_cflags *cf, char **src,
    char *err, size_t errlen)
{
	const struct ls_module_ops *ops = p->ops;

	ls_probe_engine_flags(cf, p, p->run);
	if (ops->prepare) {
		err[0] = '\0';
		if (ops->prepare(p, p->run, err, errlen) < 0) {
			if (!err[0])
				snprintf(err, errlen, "%s: cannot prepare the probe: %s", ops->name,
				    strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < p->cflags.n; i++)
		ls_cflags_add(cf, ls_xstrdup(p->cflags.v[i]));
	ls_debug("%s: probe %s", ops->name, p->path);
	for (int i = 0; i < cf->n; i++)
		ls_debug("%s: cflag %s", ops->name, cf->v[i]);
	*src = ls_expand_includes(text, p->run->probes_dir, p->path, 0, err, errlen);
	return *src ? 0 : -1;
}

/* compile - libbcc's module of src, its diagnostics shown on failure or with -v */
static void *compile(struct ls_probe *p, const struct ls_bcc_cc *cc, const struct ls_cflags *cf,
    const char *src, char *err, size_t errlen)
{
	FILE *tmp = NULL;
	int saved = capture_stderr_begin(&tmp);
	void *mod = cc->module_create(src, 0, (const char **)cf->v, cf->n, true, NULL);
	char *diag = capture_stderr_end(tmp, saved);

	if (diag && *diag && (ls_verbose || !mod))
		fprintf(stderr, "%s", diag);
	free(diag);
	if (!mod)
		snprintf(err, errlen, "probe file %s does not compile (libbcc's diagnostic above gives "
		    "file:line); fix the probe or point --probes-dir at a working copy", p->path);
	return mod;
}

/* prog_kind - what a function is attached to: 1 a probe, 0 not one, -1 a bad name */
static int prog_kind(struct ls_probe *p, const char *fn, const struct ls_swev **sw, char *cat,
    char *ev, int *type, char *err, size_t errlen)
{
	*sw = NULL;
	if (fn && !strncmp(fn, LS_SWEV_PREFIX, strlen(LS_SWEV_PREFIX))) {
		if (!(*sw = swev_find(fn + strlen(LS_SWEV_PREFIX)))) {
			char known[256] = "";

			for (size_t i = 0; i < sizeof(ls_swevs) / sizeof(ls_swevs[0]); i++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				    i ? ", " : "", ls_swevs[i].name);
			snprintf(err, errlen, "%s: %s() names no software perf event; known: %s",
			    p->path, fn, known);
			return -1;
		}
		cat[0] = '\0';
		snprintf(ev, 64, "%s", fn + strlen(LS_SWEV_PREFIX));
		*type = BPF_PROG_TYPE_PERF_EVENT;
		return 1;
	}
	if (fn && ls_fn_to_tracepoint(fn, cat, 64, ev, 64)) {
		*type = cat[0] ? BPF_PROG_TYPE_TRACEPOINT : BPF_PROG_TYPE_RAW_TRACEPOINT;
		return 1;
	}
	return 0;
}

/*
 * load_prog - load one function of the probe if it is a probe (tracepoint,
 * raw tracepoint or software event). Compiled now (mod): libbcc loads it
 * with its line info, and a verifier refusal names the kernel and the probe
 * line it stopped at. From the cache (no mod): a refusal is only returned.
 */
static int load_prog(struct ls_probe *p, void *mod, const struct ls_obj_fn *f, const char *src,
    char *log, char *err, size_t errlen)
{
	const struct ls_swev *sw;
	struct ls_prog *pr;
	char cat[64], ev[64];
	int fd, type, kind = prog_kind(p, f->name, &sw, cat, ev, &type, err, errlen);
	int len = (int)(f->ninsns * sizeof(*f->insns));

	if (kind <= 0)
		return kind;
	log[0] = '\0';
	if (mod)
		fd = ls_bcc_cc(err, errlen)->func_load(mod, type, f->name, f->insns, len, p->obj->license,
		    p->obj->kern_version, ls_verbose > 1 ? 1 : 0, log, LS_LOG_SIZE, NULL, -1);
	else
		fd = bcc_prog_load(type, f->name, f->insns, len, p->obj->license,
		    p->obj->kern_version, 0, log, LS_LOG_SIZE);
	if (fd < 0 && !mod)
		return -1;
	if (fd < 0) {
		char where[512];

		fprintf(stderr, "%s\n", ls_tail_lines(log, 25));
		ls_verifier_where(log, src, where, sizeof(where));
		snprintf(err, errlen, "the verifier of kernel %s rejected %s() from %s%s%s (%s; its "
		    "log is above): simplify the probe so every path is bounded and every map value "
		    "is checked for NULL before any use", p->run->host->kernel, f->name, p->path,
		    where[0] ? ", stopping at " : "", where, strerror(errno));
		return -1;
	}
	p->progs = ls_grow(p->progs, p->nprogs, sizeof(*p->progs));
	pr = &p->progs[p->nprogs++];
	memset(pr, 0, sizeof(*pr));
	pr->fn = ls_xstrdup(f->name);
	snprintf(pr->cat, sizeof(pr->cat), "%s", cat);
	snprintf(pr->ev, sizeof(pr->ev), "%s", ev);
	pr->prog_fd = fd;
	pr->link_fd = -1;
	pr->swev = sw ? sw->config : -1;
	pr->swev_kernel_only = sw && sw->kernel_only;
	return 0;
}

/* load_all - every probe function of p->obj (see load_prog for mod) */
static int load_all(struct ls_probe *p, void *mod, const char *src, char *err, size_t errlen)
{
	char *log = ls_xmalloc(LS_LOG_SIZE);
	int rc = 0;

	for (int i = 0; i < p->obj->nfns && rc == 0; i++)
		rc = load_prog(p, mod, &p->obj->fns[i], src, log, err, errlen);
	free(log);
	if (rc == 0 && !p->nprogs) {
		snprintf(err, errlen, "probe file %s defines no TRACEPOINT_PROBE(category, event) "
		    "(nor RAW_TRACEPOINT_PROBE or LS_SOFTWARE_EVENT_PROBE): there is nothing to "
		    "attach", p->path);
		rc = -1;
	}
	return rc;
}

/* unload - drop the programs and maps of p->obj */
static void unload(struct ls_probe *p)
{
	for (int i = 0; i < p->nprogs; i++) {
		close(p->progs[i].prog_fd);
		free(p->progs[i].fn);
	}
	free(p->progs);
	p->progs = NULL;
	p->nprogs = 0;
	ls_obj_free(p->obj);
	p->obj = NULL;
}

/*
 * from_cache - the probe compiled earlier from the same key: 0 loaded, -1
 * none (or one the kernel now refuses: then it is compiled again)
 */
static int from_cache(struct ls_probe *p, const char *key, const char *src)
{
	char err[256];

	if (!key || !(p->obj = ls_cache_load(p, key)))
		return -1;
	if (ls_probe_check_maps(p, p->ops, err, sizeof(err)) == 0 &&
	    load_all(p, NULL, src, err, sizeof(err)) == 0)
		return 0;
	ls_debug("%s: the cached probe does not load (%s): compiling it again", p->ops->name,
	    strerror(errno));
	unload(p);
	return -1;
}

/* the compiled object as it crosses the pipe from the compiling child */
#define LS_CHILD_KEY	"latencyscope: a probe compiled by its child process"
#define LS_CHILD_MAX	(64u << 20)

/* write_all - len bytes of buf to fd: 0, or -1 */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *b = buf;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* child_compile - in the child: 'O' and the object's bytes, or 'E' and why not, to fd */
static int child_compile(struct ls_probe *p, const struct ls_cflags *cf, const char *src, int fd)
{
	char err[1024] = "";
	const struct ls_bcc_cc *cc = ls_bcc_cc(err, sizeof(err));
	void *mod = cc ? compile(p, cc, cf, src, err, sizeof(err)) : NULL;
	struct ls_obj *o = mod ? ls_obj_from_module(cc, mod) : NULL;
	size_t len = 0;
	uint8_t *buf = o ? ls_obj_pack(o, LS_CHILD_KEY, &len) : NULL;
	char kind = buf ? 'O' : 'E';

	if (write(fd, &kind, 1) != 1)
		return 1;
	if (buf)
		return write_all(fd, buf, len) == 0 ? 0 : 1;
	write_all(fd, err, strlen(err));	/* empty: not portable, compile in process */
	return 1;
}

/* read_pipe - all a pipe holds until its writer is gone, up to LS_CHILD_MAX */
static uint8_t *read_pipe(int fd, size_t *len)
{
	size_t cap = 1 << 16;
	uint8_t *buf = ls_xmalloc(cap);

	*len = 0;
	for (;;) {
		ssize_t n;

		if (*len == cap && cap >= LS_CHILD_MAX)
			break;
		if (*len == cap)
			buf = ls_xrealloc(buf, cap *= 2);
		n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	return buf;
}

/*
 * A compile in a child process: clang and LLVM, ~100 MiB that glibc never
 * unmaps, live and die in the child, so a run that compiled traces in the
 * memory of one loaded from the cache; and the compiles of several modules
 * run side by side (ls_probe_begin, then ls_probe_end). The child hands
 * back the object as the cache's bytes, through a pipe; its maps are made
 * here.
 */
struct ls_compile {
	pid_t		 pid;
	int		 fd;	/* the pipe's reading end */
	struct ls_cflags cf;
	char		*src, *key;
};

/* compile_start - fork the child compiling src: 0, or -1 (then compile in process) */
static int compile_start(struct ls_probe *p, struct ls_compile *c)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	if ((c->pid = fork()) == 0) {
		/* a signal ends the child quietly (the parent says it); so does the parent's end */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		_exit(child_compile(p, &c->cf, c->src, fds[1]));	/* no exit handlers: see finish() */
	}
	close(fds[1]);
	if (c->pid < 0) {
		close(fds[0]);
		return -1;
	}
	c->fd = fds[0];
	ls_debug("%s: compiling in a child process", p->ops->name);
	return 0;
}

/*
 * compile_finish - the child's object: NULL with err set when the probe
 * does not compile, NULL with err empty when the child could not hand it
 * over (the caller compiles in this process)
 */
static struct ls_obj *compile_finish(struct ls_probe *p, struct ls_compile *c, char *err,
    size_t errlen)
{
	struct ls_obj *o = NULL;
	struct rusage ru;
	uint8_t *buf;
	bool damaged;
	int status = 0;
	size_t len;

	err[0] = '\0';
	buf = read_pipe(c->fd, &len);
	close(c->fd);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
	if (len > 1 && buf[0] == 'O')
		o = ls_obj_unpack(buf + 1, len - 1, LS_CHILD_KEY, &damaged);
	else if (len > 1 && buf[0] == 'E')
		snprintf(err, errlen, "%.*s", (int)(len - 1), (const char *)buf + 1);
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		ls_debug("%s: compiled in a child process (exit %d; largest child so far: %ld MiB)",
		    p->ops->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1, ru.ru_maxrss / 1024);
	free(buf);
	return o;
}

/* compile_free - what a compile held; a child still running is stopped */
static void compile_free(struct ls_compile *c)
{
	if (!c)
		return;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		close(c->fd);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	ls_cflags_free(&c->cf);
	free(c->src);
	free(c->key);
	free(c);
}

/*
 * from_child - the probe compiled apart, checked and loaded: 0 loaded, -1
 * with err set when it does not compile, 1 to compile in process (the
 * child failed, or the verifier refused a program: compiled in process,
 * its refusal names the probe line)
 */
static int from_child(struct ls_probe *p, struct ls_compile *c, char *err, size_t errlen)
{
	char why[256];

	if (c->pid <= 0)
		return 1;	/* no child: compile in process */
	if (!(p->obj = compile_finish(p, c, err, errlen)))
		return err[0] ? -1 : 1;
	if (ls_probe_check_maps(p, p->ops, err, errlen) < 0)
		return -1;
	if (load_all(p, NULL, c->src, why, sizeof(why)) < 0) {
		ls_debug("%s: a program did not load (%s): compiling in process for the verifier's "
		    "line", p->ops->name, strerror(errno));
		unload(p);
		return 1;
	}
	if (c->key)
		ls_cache_store(p, c->key, p->obj);
	return 0;
}

/*
 * from_compile - compile, check the maps against this binary's layouts,
 * load, and keep the result in the cache; libbcc's module (and the
 * compiler's memory with it) is freed once the programs are loaded
 */
static int from_compile(struct ls_probe *p, const struct ls_cflags *cf, const char *key,
    const char *src, char *err, size_t errlen)
{
	const struct ls_bcc_cc *cc = ls_bcc_cc(err, errlen);
	void *mod = cc ? compile(p, cc, cf, src, err, errlen) : NULL;
	int rc;

	if (!mod)
		return -1;
	p->obj = ls_obj_from_module(cc, mod);
	rc = ls_probe_check_maps(p, p->ops, err, errlen);
	if (rc == 0)
		rc = load_all(p, mod, src, err, errlen);
	if (rc == 0 && key)
		ls_cache_store(p, key, p->obj);
	cc->module_destroy(mod);
	return rc;
}

/* set_self - the probes never judge latencyscope's own process (ls_is_self()) */
static void set_self(struct ls_probe *p)
{
	int fd = ls_probe_table_fd(p, "ls_self");
	uint32_t zero = 0, self = (uint32_t)getpid();

	if (fd >= 0)
		bpf_update_elem(fd, &zero, &self, 0);
}

/* set_pids - with --pid, a bit per monitored process in ls_pidbits (LS_PID_MATCH) */
static int set_pids(struct ls_probe *p, char *err, size_t errlen)
{
	int fd = ls_probe_table_fd(p, "ls_pidbits");

	if (fd < 0)
		return 0;	/* no --pid: the probe has no such map */
	for (int i = 0; i < p->run->opts->npids; i++) {
		uint32_t pid = (uint32_t)p->run->opts->pids[i], word = pid >> 6;
		uint64_t bits = 0;

		bpf_lookup_elem(fd, &word, &bits);
		bits |= 1ULL << (pid & 63);
		if (bpf_update_elem(fd, &word, &bits, 0) < 0) {
			snprintf(err, errlen, "%s: cannot mark process %u as monitored in its "
			    "probe's map: %s", p->ops->name, pid, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * ls_probe_begin - read the probe and find it compiled in the cache, or
 * start its compile in a child process (ls_probe_end finishes it, so the
 * caller can start several): 0 under way or loaded, 1 not measurable on
 * this kernel (p->not_measured says why), -1 error
 */
int ls_probe_begin(struct ls_probe *p, const struct ls_module_ops *ops, const struct ls_run *r,
    char *err, size_t errlen)
{
	struct ls_compile *c = ls_xcalloc(1, sizeof(*c));
	char *text = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->run = r;
	p->cpus = &r->cpus;
	p->path = ls_strdup_printf("%s/%s.c", r->probes_dir, ops->name);
	p->compiling = c;
	if ((rc = read_probe(p, &text, err, errlen)) != 0 ||
	    (rc = probe_text(p, text, &c->cf, &c->src, err, errlen)) < 0)
		goto out;
	c->key = ls_cache_key(p, &c->cf, c->src);
	if (from_cache(p, c->key, c->src) == 0) {
		compile_free(c);
		p->compiling = NULL;
	} else if (compile_start(p, c) < 0) {
		c->pid = 0;	/* no child: ls_probe_end compiles in process */
	}
out:
	free(text);
	return rc;
}

/* ls_probe_end - the probe ls_probe_begin started, loaded: 0, or -1 with err set */
int ls_probe_end(struct ls_probe *p, char *err, size_t errlen)
{
	struct ls_compile *c = p->compiling;
	int rc = 0;

	if (c && (rc = from_child(p, c, err, errlen)) > 0)
		rc = from_compile(p, &c->cf, c->key, c->src, err, errlen);
	compile_free(c);
	p->compiling = NULL;
	if (rc == 0) {
		set_self(p);
		rc = set_pids(p, err, errlen);
	}
	return rc;
}

/* rank_at - the i-th record of a ranked list */
static const void *rank_at(const struct ls_probe *p, const char *a, int i)
{
	return a + (size_t)i * p->ops->rec_size;
}

/*
 * rank - rank rec among a list's worst_n (largest key first); a record of
 * an event already kept replaces it only when larger. Returns the floor the
 * list needs: what a record must exceed to rank, 1 while it is not full.
 */
static uint64_t rank(struct ls_probe *p, char *a, int *n, const void *rec)
{
	const struct ls_module_ops *o = p->ops;
	size_t sz = o->rec_size;
	uint64_t k = o->rec_key(rec);
	int i;

	for (i = 0; o->rec_same && i < *n && !o->rec_same(rank_at(p, a, i), rec); i++)
		;
	if (o->rec_same && i < *n) {
		if (k <= o->rec_key(rank_at(p, a, i)))
			goto out;
		memmove(a + i * sz, a + (i + 1) * sz, (size_t)(*n - i - 1) * sz);
		(*n)--;
	}
	if (*n == o->worst_n && k <= o->rec_key(rank_at(p, a, o->worst_n - 1)))
		goto out;
	i = *n < o->worst_n ? (*n)++ : o->worst_n - 1;
	for (; i > 0 && o->rec_key(rank_at(p, a, i - 1)) < k; i--)
		memcpy(a + (size_t)i * sz, rank_at(p, a, i - 1), sz);
	memcpy(a + (size_t)i * sz, rec, sz);
out:
	return *n == o->worst_n ? o->rec_key(rank_at(p, a, o->worst_n - 1)) + 1 : 1;
}

/*
 * set_floor - tell the probe what a record must exceed to be sent, when
 * that changed: most records that reach user space once a list is full
 * (those a trace format asks for) rank nowhere, and each write is a syscall
 */
static void set_floor(struct ls_probe *p, uint64_t floor)
{
	if (!p->ops->floor_map || floor == p->floor || (floor <= 1 && !p->floor))
		return;
	p->floor = floor;
	ls_probe_set_u64(p, p->ops->floor_map, ls_event_floor(p, floor));
}

/*
 * keep_worst - rank rec in the run's list and, with --interval, in the
 * interval's; the floor map then says what a record must exceed to rank in
 * either (the interval's list, emptied each interval, is the lower)
 */
static void keep_worst(struct ls_probe *p, const void *rec)
{
	uint64_t floor = rank(p, p->worst, &p->nworst, rec), f;

	if (p->worst_iv && (f = rank(p, p->worst_iv, &p->nworst_iv, rec)) < floor)
		floor = f;
	set_floor(p, floor);
}

/*
 * ls_probe_interval_worst - with --interval: the worst list collect() reads
 * is the interval's while on (it swaps with the run's), and after the
 * interval's report an empty one (floor lowered) for the next interval
 */
void ls_probe_interval_worst(struct ls_probe *p, bool on)
{
	void *a = p->worst;
	int n = p->nworst;

	if (!p->worst_iv)
		return;
	p->worst = p->worst_iv;
	p->nworst = p->nworst_iv;
	p->worst_iv = a;
	p->nworst_iv = n;
	if (!on) {	/* the interval is over: the next one ranks from nothing */
		p->nworst_iv = 0;
		set_floor(p, 1);
	}
}

/* ringbuf_cb - one record: the module's record(), then the worst-N ranking */
static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct ls_probe *p = ctx;
	const struct ls_module_ops *o = p->ops;

	p->events_seen++;
	if (size < o->rec_size)
		return 0;	/* a probe from another version: its records are not ours */
	if ((!o->record || o->record(p, data)) && o->rec_key && o->worst_n > 0)
		keep_worst(p, data);
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
	const struct ls_obj_map *ev = ls_obj_map(p->obj, "ls_events");
	int fd = ev ? ev->fd : -1;
	struct perf_readers *pr;
	int ncpu = ls_nr_possible_cpus();

	if (fd < 0 || !p->ops->rec_size)
		return 0;
	if (p->ops->worst_n > 0)
		p->worst = ls_xcalloc(p->ops->worst_n, p->ops->rec_size);
	if (p->ops->worst_n > 0 && p->run->opts->interval > 0)
		p->worst_iv = ls_xcalloc(p->ops->worst_n, p->ops->rec_size);
	if (ev->type == BPF_MAP_TYPE_RINGBUF) {
		p->ringbuf = bpf_new_ringbuf(fd, ringbuf_cb, p);
		if (!p->ringbuf) {
			snprintf(err, errlen, "cannot open the ring buffer of %s: %s", p->path, strerror(errno));
			return -1;
		}
		return 0;
	}
	pr = ls_xcalloc(1, sizeof(*pr));
	pr->r = ls_xcalloc(ncpu, sizeof(*pr->r));
	for (int c = 0; c < ncpu; c++) {
		/* a wake-up per record would interrupt the monitored CPU: see ls_emit() */
		struct bcc_perf_buffer_opts opts = { .pid = -1, .cpu = c,
		    .wakeup_events = LS_PERF_WAKEUP };
		/* sized like the ring buffer, per CPU (--trace-buffer applies to both paths) */
		struct perf_reader *rd = bpf_open_perf_buffer_opts(perf_cb, perf_lost_cb, p,
		    (int)ls_event_pages(p->run), &opts);
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

	pr->cpu_fds = ls_xcalloc(ncpu > 0 ? ncpu : 1, sizeof(int));
	for (int c = 0; c < ncpu && c < LS_MAX_CPUS; c++) {
		int fd;

		if (!ls_cpuset_isset(p->cpus, c))
			continue;
		/* clocks are sampled at the module's frequency; other events on every occurrence */
		bool clock = pr->swev == PERF_COUNT_SW_CPU_CLOCK || pr->swev == PERF_COUNT_SW_TASK_CLOCK;

		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(attr),
			.config = pr->swev,
			.exclude_user = pr->swev_kernel_only,
		};

		if (clock && p->sample_freq) {
			attr.freq = 1;
			attr.sample_freq = p->sample_freq;
		} else {
			attr.sample_period = 1;
		}
		fd = bpf_attach_perf_event_raw(pr->prog_fd, &attr, -1, c, -1, 0);
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

/* ls_probe_gate - open (1) or close (0) the probe's gate; see probes/latencyscope.h */
int ls_probe_gate(struct ls_probe *p, uint32_t on)
{
	int fd;
	uint32_t zero = 0;

	if (!p->obj)	/* a module not measured on this kernel has no gate */
		return 0;
	fd = ls_probe_table_fd(p, "ls_gate");
	if (on)
		ls_probe_set_u64(p, "ls_start", ls_now_ns(CLOCK_MONOTONIC));

	return fd < 0 ? 0 : bpf_update_elem(fd, &zero, &on, 0);
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
	pthread_t *th = ls_xcalloc(n, sizeof(*th));
	bool *started = ls_xcalloc(n, sizeof(*started));
	struct link *links = ls_xcalloc(n, sizeof(*links));

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
	compile_free(p->compiling);
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
	ls_obj_free(p->obj);
	ls_cflags_free(&p->cflags);
	free(p->worst);
	free(p->worst_iv);
	free(p->progs);
	free(p->tps);
	free(p->path);
	free(p->not_measured);
	memset(p, 0, sizeof(*p));
}

