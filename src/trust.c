// SPDX-License-Identifier: GPL-2.0-only
/*
 * trust.c - whether probe source may be compiled and loaded.
 *
 * Probes become kernel code, compiled and loaded as root. Run by root, the
 * tool takes a probes directory, a probe file or a header it splices in only
 * when root owns it and no group or other user can write to it, and only
 * files that are really in that directory (no symbolic link out of it, no
 * include of a path). Without root (CAP_BPF + CAP_PERFMON) the user can load
 * their own code anyway, so nothing is checked.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "latencyscope.h"

/* owner_ok - root's and not writable by others; says why not */
static int owner_ok(const char *what, const char *path, const struct stat *st, char *err, size_t errlen)
{
	if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s %s is %s: probes run as kernel code, so as root latencyscope "
		    "loads them only from root's files that no one else can change; fix it with "
		    "`chown root: %s && chmod go-w %s`, or use the installed probes", what, path,
		    st->st_uid != 0 ? "not owned by root" : "writable by group or others", path, path);
		return -1;
	}
	return 0;
}

/*
 * ls_trust_probes_dir - check the probes directory (as root) and replace
 * *dir by its real path, which every probe file must then be in
 */
int ls_trust_probes_dir(char **dir, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(*dir, real) || stat(real, &st) < 0) {
		snprintf(err, errlen, "probes directory %s: %s: pass --probes-dir DIR or set "
		    "LATENCYSCOPE_PROBES_DIR to the directory that holds the probe files", *dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "probes directory %s is not a directory", *dir);
		return -1;
	}
	if (geteuid() == 0 && owner_ok("probes directory", real, &st, err, errlen) < 0)
		return -1;
	free(*dir);
	*dir = ls_strdup_printf("%s", real);
	return 0;
}

/*
 * ls_trust_probe_file - a probe or a header to splice (as root): a regular
 * file of root's, not a link, directly in the (real) probes directory
 */
int ls_trust_probe_file(const char *dir, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (lstat(path, &st) < 0)
		return 0;	/* the reader says it is missing */
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "probe file %s is %s: as root latencyscope reads only regular "
		    "files in the probes directory %s", path, S_ISLNK(st.st_mode) ? "a symbolic link" :
		    "not a regular file", dir);
		return -1;
	}
	if (!slash || (size_t)(slash - path) != strlen(dir) || strncmp(path, dir, strlen(dir))) {
		snprintf(err, errlen, "probe file %s is not in the probes directory %s", path, dir);
		return -1;
	}
	return owner_ok("probe file", path, &st, err, errlen);
}

/*
 * ls_trust_include - an #include line of probe source: a bare name (spliced
 * from the probes directory) or a system header; never a path, which would
 * let clang read (and print in its errors) any file as root
 */
int ls_trust_include(const char *line, const char *file, int lineno, char *err, size_t errlen)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '#')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "include", 7))
		return 0;
	p += 7;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"' || *p == '<') {
		char close = *p == '"' ? '"' : '>';
		const char *end = strchr(p + 1, close);
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);

		if (p[1] != '/' && !memmem(p + 1, n, "..", 2) && (close == '>' || !memchr(p + 1, '/', n)))
			return 0;
	}
	if (geteuid() != 0)
		return 0;
	snprintf(err, errlen, "%s:%d: `%.*s`: as root a probe may include only files of its own "
	    "directory by bare name (\"x.h\") and system headers (<linux/x.h>), never a path",
	    file, lineno, (int)strcspn(line, "\n"), line);
	return -1;
}
