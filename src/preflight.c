// SPDX-License-Identifier: GPL-2.0-only
/*
 * preflight.c - what must hold before a probe can load: privileges, CPUs,
 * processes, tracefs and kernel headers. Every failure names its cause and
 * its fix.
 */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "latencyscope.h"

#define LS_RUNDIR "/run/latencyscope"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* ls_host_probe - kernel release, CPUs (possible, online, isolated, nohz_full), pid_max */
int ls_host_probe(struct ls_host *h)
{
	struct ls_cpuset possible;
	struct utsname u;
	uint64_t rt = 0;

	memset(h, 0, sizeof(*h));

	if (uname(&u) == 0) {
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
		snprintf(h->hostname, sizeof(h->hostname), "%s", u.nodename);
		h->preempt_rt = strstr(u.version, "PREEMPT_RT") != NULL;
	}
	{	/* reports from many hosts, and from reboots of one, told apart */
		char *id = ls_read_file("/proc/sys/kernel/random/boot_id", NULL);

		snprintf(h->boot_id, sizeof(h->boot_id), "%.*s", id ? (int)strcspn(id, "\n") : 0,
		    id ? id : "");
		free(id);
	}
	if (ls_read_u64_file("/sys/kernel/realtime", &rt) == 0 && rt == 1)
		h->preempt_rt = true;
	ls_read_cpulist_file("/sys/devices/system/cpu/possible", &possible);
	ls_read_cpulist_file("/sys/devices/system/cpu/online", &h->online);
	ls_read_cpulist_file("/sys/devices/system/cpu/isolated", &h->isolated);
	ls_read_cpulist_file("/sys/devices/system/cpu/nohz_full", &h->nohz_full);
	/* the file exists only in kernels built with CONFIG_NO_HZ_FULL (Debian 11's is not) */
	h->nohz_full_capable = access("/sys/devices/system/cpu/nohz_full", F_OK) == 0;
	h->nr_possible = 0;
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(&possible, c))
			h->nr_possible = c + 1;
	h->nr_online = ls_cpuset_count(&h->online);
	if (!h->nr_online) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		for (long c = 0; c < n; c++)
			ls_cpuset_set(&h->online, (int)c);
		h->nr_online = (int)n;
	}
	if (!h->nr_possible)
		h->nr_possible = h->nr_online;
	if (ls_read_u64_file("/proc/sys/kernel/pid_max", &h->pid_max) < 0 || !h->pid_max)
		h->pid_max = 32768;
	if (h->pid_max > 4194304)
		h->pid_max = 4194304;
	return 0;
}

/* ls_host_free - what ls_host_probe and the preflight checks allocated */
void ls_host_free(struct ls_host *h)
{
	free(h->tracefs);
	free(h->headers);
	free(h->headers_note);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

/* ls_preflight_privileges - loading BPF needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN */
int ls_preflight_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    (has_cap(data, CAP_SYS_ADMIN) || (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))))
		return 0;
	snprintf(err, errlen, "not enough privileges to load BPF programs (running as uid %d "
	    "without CAP_BPF and CAP_PERFMON): run latencyscope as root, e.g. `sudo latencyscope "
	    "...`, or grant the capabilities with `sudo setcap cap_bpf,cap_perfmon,cap_sys_resource+ep "
	    "$(command -v latencyscope)`", (int)geteuid());
	return -1;
}

/* ls_preflight_cpus - every monitored CPU exists and is online */
int ls_preflight_cpus(const struct ls_host *h, const struct ls_cpuset *cpus, char *err, size_t errlen)
{
	char *online = ls_cpulist_format(&h->online);
	int rc = 0;

	for (int c = 0; c < LS_MAX_CPUS && !rc; c++) {
		if (!ls_cpuset_isset(cpus, c))
			continue;
		if (c >= h->nr_possible) {
			snprintf(err, errlen, "CPU %d does not exist: this machine has %d CPUs (online: %s); "
			    "pass --cpus with CPUs from that list", c, h->nr_possible, online);
			rc = -1;
		} else if (!ls_cpuset_isset(&h->online, c)) {
			snprintf(err, errlen, "CPU %d is offline: bring it online with `echo 1 > "
			    "/sys/devices/system/cpu/cpu%d/online` or pass --cpus with online CPUs (%s)",
			    c, c, online);
			rc = -1;
		}
	}
	free(online);
	return rc;
}

/*
 * ls_preflight_pids - every --pid exists; a thread id is replaced by its
 * process id (the process's threads are all monitored anyway)
 */
int ls_preflight_pids(int *pids, int npids, char *err, size_t errlen)
{
	for (int i = 0; i < npids; i++) {
		char path[64], *status, *tg;

		snprintf(path, sizeof(path), "/proc/%d/status", pids[i]);
		status = ls_read_file(path, NULL);
		if (!status) {
			snprintf(err, errlen, "process %d does not exist (no /proc/%d): check the id with "
			    "`pgrep NAME` or `ps -e`; the process must be running when latencyscope starts",
			    pids[i], pids[i]);
			return -1;
		}
		tg = strstr(status, "\nTgid:");
		if (tg) {
			int tgid = atoi(tg + 6);

			if (tgid > 0 && tgid != pids[i]) {
				ls_warn("%d is a thread of process %d: monitoring all of process %d",
				    pids[i], tgid, tgid);
				pids[i] = tgid;
			}
		}
		free(status);
	}
	return 0;
}

/*
 * ls_preflight_interfaces - each --interface name is a device of this
 * network namespace; the error lists the ones that exist
 */
int ls_preflight_interfaces(char *const *names, int n, char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		char path[64];
		struct dirent *e;
		DIR *d;
		int len;

		snprintf(path, sizeof(path), "/sys/class/net/%s", names[i]);
		if (access(path, F_OK) == 0)
			continue;
		len = snprintf(err, errlen, "network interface '%s' does not exist; this host has:",
		    names[i]);
		d = opendir("/sys/class/net");
		while (d && (e = readdir(d)) && len < (int)errlen)
			if (e->d_name[0] != '.')
				len += snprintf(err + len, errlen - len, " %s", e->d_name);
		if (d)
			closedir(d);
		if (len < (int)errlen)
			snprintf(err + len, errlen - len, " (give --interface one of these)");
		return -1;
	}
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * ls_preflight_tracefs - find tracefs (the tracepoint list and the formats
 * libbcc builds `args` from); mount it at /sys/kernel/tracing if it is not
 */
int ls_preflight_tracefs(struct ls_host *h, char *err, size_t errlen)
{
	static const char *const where[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		char ev[128];

		snprintf(ev, sizeof(ev), "%s/events", where[i]);
		errno = 0;
		if (is_dir(ev)) {
			h->tracefs = ls_xstrdup(where[i]);
			return 0;
		}
		if (errno == EACCES) {	/* mounted, mode 0700: CAP_BPF + CAP_PERFMON cannot read it */
			snprintf(err, errlen, "tracefs at %s is mounted but this user cannot read it "
			    "(%s): run as root, or open it to this user's group with `chgrp -R GROUP %s "
			    "&& chmod -R g+rX %s`", where[i], strerror(errno), where[i], where[i]);
			return -1;
		}
	}
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    is_dir("/sys/kernel/tracing/events")) {
		ls_debug("mounted tracefs at /sys/kernel/tracing");
		h->tracefs = ls_xstrdup("/sys/kernel/tracing");
		return 0;
	}
	snprintf(err, errlen, "tracefs is not mounted and mounting it failed (%s): mount it with "
	    "`mount -t tracefs nodev /sys/kernel/tracing` (the kernel needs CONFIG_TRACING and "
	    "CONFIG_FTRACE_SYSCALLS for tracepoints)", strerror(errno));
	return -1;
}

/* ls_tracepoint_exists - tracefs has events/cat/ev */
bool ls_tracepoint_exists(const struct ls_host *h, const char *cat, const char *ev)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", h->tracefs, cat, ev);
	return access(path, R_OK) == 0;
}

/* ls_tracepoint_category - the tracefs category that has event ev (for raw tracepoints) */
bool ls_tracepoint_category(const struct ls_host *h, const char *ev, char *cat, size_t len)
{
	char path[512];
	struct dirent *e;
	DIR *d;
	bool found = false;

	snprintf(path, sizeof(path), "%s/events", h->tracefs);
	d = opendir(path);
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/events/%s/%s", h->tracefs, e->d_name, ev);
		if (access(path, F_OK) == 0) {
			snprintf(cat, len, "%s", e->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	if (!found)
		snprintf(cat, len, "%s", "?");
	return found;
}

static const char *srcarch(void)
{
	static struct utsname u;

	if (uname(&u) < 0)
		return "x86";
	if (!strcmp(u.machine, "x86_64") || (u.machine[0] == 'i' && strstr(u.machine, "86")))
		return "x86";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	if (!strncmp(u.machine, "arm", 3))
		return "arm";
	if (!strncmp(u.machine, "ppc", 3))
		return "powerpc";
	if (!strncmp(u.machine, "riscv", 5))
		return "riscv";
	if (!strcmp(u.machine, "s390x"))
		return "s390";
	return u.machine;
}

/* link_entries - a symlink in dst for every entry of src */
static int link_entries(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -1;
	while (!rc && (e = readdir(d))) {
		char from[PATH_MAX], to[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
		unlink(to);
		rc = symlink(from, to);
	}
	closedir(d);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0)
		ls_debug("could not remove %s: %s", path, strerror(errno));
	return 0;
}

/* rm_tree - remove a half-built overlay (symlinks are removed, not followed) */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * clean_stale - half-built overlays a killed run left (.NAME.XXXXXX); one
 * younger than a minute may be another run's, building right now
 */
static void clean_stale(const char *name)
{
	DIR *d = opendir(LS_RUNDIR);
	char prefix[300], path[PATH_MAX];
	struct dirent *e;
	struct stat st;

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), ".%s.", name);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), LS_RUNDIR "/%s", e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
		    time(NULL) - st.st_mtime > 60) {
			ls_debug("removing %s, left by a run that was killed", path);
			rm_tree(path);
		}
	}
	closedir(d);
}

/*
 * build_overlay - Debian splits a kernel's headers into linux-headers-V-common
 * (sources) and linux-headers-V-FLAVOUR (generated files, .config). Build a
 * private tree of symlinks joining both, root-owned, mode 0700, under
 * /run/latencyscope, and reuse it when it is already there.
 */
static char *build_overlay(const char *common, const char *flavour, const char *name)
{
	const char *arch = srcarch();
	char tmp[PATH_MAX], final[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
	struct stat st;

	snprintf(final, sizeof(final), LS_RUNDIR "/%s", name);
	if (lstat(final, &st) == 0) {
		if (S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 0777) == 0700)
			return ls_xstrdup(final);
		ls_warn("%s exists but is not a root-owned 0700 directory: not using it", final);
		return NULL;
	}
	if (mkdir(LS_RUNDIR, 0700) < 0 && errno != EEXIST)
		return NULL;
	if (lstat(LS_RUNDIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
		return NULL;
	clean_stale(name);
	snprintf(tmp, sizeof(tmp), LS_RUNDIR "/.%s.XXXXXX", name);
	if (!mkdtemp(tmp))
		return NULL;
	snprintf(p, sizeof(p), "%s/include", tmp);
	snprintf(q, sizeof(q), "%s/arch/%s/include", tmp, arch);
	if (mkdir(p, 0755) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/arch", tmp);
	if (mkdir(p, 0755) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/arch/%s", tmp, arch);
	if (mkdir(p, 0755) < 0 || mkdir(q, 0755) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/include", common);
	snprintf(q, sizeof(q), "%s/include", tmp);
	if (link_entries(p, q) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/include", flavour);
	if (link_entries(p, q) < 0)	/* config/, generated/ */
		goto fail;
	snprintf(p, sizeof(p), "%s/arch/%s/include", common, arch);
	snprintf(q, sizeof(q), "%s/arch/%s/include", tmp, arch);
	if (link_entries(p, q) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/arch/%s/include/generated", flavour, arch);
	snprintf(q, sizeof(q), "%s/arch/%s/include/generated", tmp, arch);
	if (symlink(p, q) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/.config", flavour);
	snprintf(q, sizeof(q), "%s/.config", tmp);
	if (symlink(p, q) < 0)
		goto fail;
	snprintf(p, sizeof(p), "%s/Makefile", flavour);
	snprintf(q, sizeof(q), "%s/Makefile", tmp);
	if (symlink(p, q) < 0)
		goto fail;
	if (chmod(tmp, 0700) < 0)
		goto fail;
	if (rename(tmp, final) < 0) {
		/* another latencyscope built it meanwhile: use theirs */
		if ((errno == EEXIST || errno == ENOTEMPTY) && lstat(final, &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 0777) == 0700) {
			rm_tree(tmp);
			return ls_xstrdup(final);
		}
		goto fail;
	}
	return ls_xstrdup(final);
fail:
	ls_debug("building the header overlay in %s failed: %s", tmp, strerror(errno));
	rm_tree(tmp);
	return NULL;
}

/* flavour - what follows a kernel release's last numeric part: "6.1.0-57-rt-amd64" -> "rt-amd64" */
static const char *flavour(const char *release)
{
	const char *f = release, *p = release;

	while ((p = strchr(p, '-'))) {
		p++;
		if (*p >= '0' && *p <= '9')
			f = p;
	}
	p = strchr(f, '-');
	return p ? p + 1 : "";
}

/*
 * ls_headers_cmp - which of two header versions ("6.1.0-57-amd64") suits the
 * running kernel better, > 0 for a: the exact release, then the running
 * flavour (stock, -rt, -cloud: strverscmp alone puts "-rt-amd64" above
 * "-amd64" of the same version), then the newest.
 */
int ls_headers_cmp(const char *release, const char *a, const char *b)
{
	int fa, fb;

	if (strcmp(a, release) == 0 || strcmp(b, release) == 0)
		return (strcmp(a, release) == 0) - (strcmp(b, release) == 0);
	fa = strcmp(flavour(a), flavour(release)) == 0;
	fb = strcmp(flavour(b), flavour(release)) == 0;
	if (fa != fb)
		return fa - fb;
	return strverscmp(a, b);
}

/*
 * find_usr_src - the headers package under /usr/src that suits the running
 * kernel best (ls_headers_cmp). Returns the directory to give libbcc.
 */
static char *find_usr_src(const char *release, char **used_version)
{
	DIR *d = opendir("/usr/src");
	struct dirent *e;
	char best[256] = "", dir[PATH_MAX], common[PATH_MAX], probe[PATH_MAX];

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		const char *n = e->d_name, *ver = n + strlen("linux-headers-");

		if (strncmp(n, "linux-headers-", 14) || strstr(n, "-common"))
			continue;
		snprintf(probe, sizeof(probe), "/usr/src/%s/include/generated", n);
		if (!is_dir(probe))
			continue;
		if (!best[0] || ls_headers_cmp(release, ver, best + 14) > 0)
			snprintf(best, sizeof(best), "%s", n);
	}
	closedir(d);
	if (!best[0])
		return NULL;
	snprintf(dir, sizeof(dir), "/usr/src/%s", best);
	*used_version = ls_xstrdup(best + 14);
	snprintf(probe, sizeof(probe), "%s/include/linux/kconfig.h", dir);
	if (access(probe, R_OK) == 0)	/* a complete tree (not split) */
		return ls_xstrdup(dir);
	/*
	 * Debian splits the tree: linux-headers-6.1.0-56-amd64 ->
	 * linux-headers-6.1.0-56-common, and an -rt flavour's ->
	 * linux-headers-6.1.0-56-common-rt
	 */
	{
		const char *fl = flavour(best + 14);
		int base = (int)(strlen(dir) - strlen(fl));

		if (!*fl)
			return NULL;
		snprintf(common, sizeof(common), "%.*scommon%s", base, dir,
		    strncmp(fl, "rt-", 3) ? "" : "-rt");
	}
	snprintf(probe, sizeof(probe), "%s/include/linux/kconfig.h", common);
	if (access(probe, R_OK) < 0)
		return NULL;
	return build_overlay(common, dir, best);
}

/*
 * ls_preflight_headers - decide which kernel headers libbcc compiles
 * against, in libbcc's own order, then the distribution's packages as a
 * last resort (with a warning: only tracepoint arguments stay correct).
 */
int ls_preflight_headers(struct ls_host *h, const char *given, char *err, size_t errlen)
{
	char path[PATH_MAX], *env = getenv("BCC_KERNEL_SOURCE"), *ver = NULL;

	if (given) {
		snprintf(path, sizeof(path), "%s/include", given);
		if (!is_dir(path)) {
			snprintf(err, errlen, "--kernel-headers %s is not a kernel header tree (no include/ "
			    "in it): give the directory that holds include/ and arch/, like "
			    "/lib/modules/$(uname -r)/build", given);
			return -1;
		}
		h->headers = ls_xstrdup(given);
		setenv("BCC_KERNEL_SOURCE", given, 1);
		return 0;
	}
	if (env && *env) {
		h->headers = ls_xstrdup(env);
		return 0;
	}
	snprintf(path, sizeof(path), "/lib/modules/%s/build/include", h->kernel);
	if (is_dir(path))
		return 0;
	snprintf(path, sizeof(path), "/lib/modules/%s/source/include", h->kernel);
	if (is_dir(path))
		return 0;
	if (access("/sys/kernel/kheaders.tar.xz", R_OK) == 0)
		return 0;
	h->headers = find_usr_src(h->kernel, &ver);
	if (h->headers) {
		if (ver && strcmp(ver, h->kernel)) {
			h->headers_note = ls_strdup_printf("no kernel headers for the running kernel %s; "
			    "compiling probes against linux-headers-%s (from /usr/src). Tracepoint "
			    "arguments stay correct; install linux-headers-%s to silence this",
			    h->kernel, ver, h->kernel);
			ls_warn("%s", h->headers_note);
		}
		free(ver);
		setenv("BCC_KERNEL_SOURCE", h->headers, 1);
		return 0;
	}
	free(ver);
	snprintf(err, errlen, "no kernel headers found for kernel %s (looked at --kernel-headers, "
	    "$BCC_KERNEL_SOURCE, /lib/modules/%s/build, /sys/kernel/kheaders.tar.xz and "
	    "/usr/src/linux-headers-*): install them with `apt-get install linux-headers-%s` "
	    "(or linux-headers-$(dpkg --print-architecture) when that package does not exist), "
	    "or pass --kernel-headers DIR", h->kernel, h->kernel, h->kernel);
	return -1;
}
