// SPDX-License-Identifier: GPL-2.0-only
/*
 * output.c - the files a run writes (--output, --bill-of-health).
 *
 * latencyscope runs as root, often in directories other users can write to.
 * So nothing is created or truncated before the run (a run that fails
 * leaves every path as it was), a file is never opened by its own name: the
 * content goes to a fresh temporary beside it (mkostemp: O_EXCL, mode 0600,
 * or the replaced file's mode and owner), is synced, and is renamed over the
 * target. A rename replaces a planted symbolic link itself, never the file
 * it points to. Only a character device or a FIFO (a terminal, /dev/null,
 * a pipe) is written in place, never truncated or removed; anything else
 * that is not a regular file is refused.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "latencyscope.h"

/* in_place - a device or FIFO (also behind a link such as /dev/stdout): written, never replaced */
static bool in_place(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode));
}

/* dir_of - the directory a path's temporary goes in */
static char *dir_of(const char *path)
{
	char *copy = ls_strdup_printf("%s", path), *d = ls_strdup_printf("%s", dirname(copy));

	free(copy);
	return d;
}

/*
 * ls_output_check - before the run: can path be written at the end? Says
 * why not (exit 3 at the start, not after a run); creates nothing.
 */
int ls_output_check(const char *path, const char *opt, char *err, size_t errlen)
{
	struct stat st;
	char *dir;
	int rc = 0;

	if (in_place(path)) {
		if (access(path, W_OK) < 0)
			goto denied;
		return 0;
	}
	if (lstat(path, &st) == 0) {
		const char *what = S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISDIR(st.st_mode) ? "a directory" : S_ISREG(st.st_mode) ? NULL : "not a regular file";

		if (what) {
			snprintf(err, errlen, "%s %s is %s: latencyscope replaces only regular files "
			    "(it runs as root and never writes through a link); give a file name%s",
			    opt, path, what, S_ISDIR(st.st_mode) ? " inside it" : " where nothing else is");
			return -1;
		}
		if (access(path, W_OK) < 0)
			goto denied;
	} else if (errno != ENOENT) {
		goto denied;
	}
	dir = dir_of(path);
	if (access(dir, W_OK | X_OK) < 0)
		rc = -1;
	free(dir);
	if (rc == 0)
		return 0;
denied:
	snprintf(err, errlen, "cannot write %s (%s): pick a writable path for %s", path,
	    strerror(errno), opt);
	return -1;
}

/* ls_output_same - whether two output paths name one file (so one would overwrite the other) */
bool ls_output_same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
	{
		char *da = dir_of(a), *db = dir_of(b), ra[PATH_MAX], rb[PATH_MAX];
		bool same = realpath(da, ra) && realpath(db, rb) && !strcmp(ra, rb) &&
		    !strcmp(strrchr(a, '/') ? strrchr(a, '/') + 1 : a, strrchr(b, '/') ? strrchr(b, '/') + 1 : b);

		free(da);
		free(db);
		return same;
	}
}

/* ls_output_open - a stream for path's new content: a temporary beside it, or the device itself */
FILE *ls_output_open(struct ls_output *o, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *dir;
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = ls_strdup_printf("%s", path);
	if (in_place(path)) {
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);	/* no O_CREAT, no O_TRUNC */
		/* what was opened, not what was checked: a link swapped meanwhile is refused */
		if (fd >= 0 && (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)))) {
			close(fd);
			fd = -1;
			errno = EPERM;
		}
	} else {
		dir = dir_of(path);
		o->tmp = ls_strdup_printf("%s/.latencyscope.XXXXXX", dir);
		free(dir);
		fd = mkostemp(o->tmp, O_CLOEXEC);
		if (fd < 0) {
			free(o->tmp);
			o->tmp = NULL;
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			/* a replaced file keeps its mode and owner; a new one is 0600 */
			if (fchmod(fd, st.st_mode & 07777) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0)
				ls_debug("%s: cannot keep the mode or owner of %s", o->tmp, path);
		}
	}
	if (fd >= 0 && !(o->f = fdopen(fd, "w")))
		close(fd);
	if (!o->f) {
		snprintf(err, errlen, "cannot write %s (%s): pick a writable path", path, strerror(errno));
		ls_output_abort(o);
	}
	return o->f;
}

/*
 * ls_output_commit - flush, sync and move the content into place; -1 with
 * err set when any of it failed (the target is then left as it was)
 */
int ls_output_commit(struct ls_output *o, char *err, size_t errlen)
{
	int rc = 0, fd = o->f ? fileno(o->f) : -1;

	if (!o->f)
		rc = -1;
	else if (fflush(o->f) != 0 || ferror(o->f) || (o->tmp && fsync(fd) < 0))
		rc = -1;
	if (o->f && fclose(o->f) != 0)
		rc = -1;
	o->f = NULL;
	if (rc == 0 && o->tmp && rename(o->tmp, o->path) < 0)
		rc = -1;
	if (rc < 0)
		snprintf(err, errlen, "writing %s failed (%s)", o->path, strerror(errno));
	else if (o->tmp) {
		free(o->tmp);
		o->tmp = NULL;
	}
	ls_output_abort(o);
	return rc;
}

/* ls_output_abort - drop what was written; only the run's own temporary is removed */
void ls_output_abort(struct ls_output *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = NULL;
	o->path = NULL;
}
