// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe-cache.c - compiled probes kept between runs. Compiling a probe with
 * libbcc (clang against the kernel's headers) is most of the time from start
 * to attached and most of the memory the tool ever touches; an unchanged
 * probe with unchanged flags on an unchanged kernel compiles to the same
 * instructions, so they are kept, keyed by everything the compile read.
 *
 * The key is the probe text after its includes were spliced, every compiler
 * flag, the kernel (release, build, possible CPUs), the headers libbcc reads
 * and the libbcc and latencyscope versions. A file is named by a hash of it
 * and holds it whole, so a hit compares the full key, never a hash alone.
 * Its programs become kernel code: the cache is used as root only, in a
 * directory of root's that no one else can write (made 0700), from files of
 * root's that no one else can write, and written by temporary and rename.
 */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bcc/bcc_version.h>
#include <bcc/libbpf.h>
#include <linux/bpf.h>

#include "latencyscope.h"
#include "probe-cache.pb-c.h"
#include "probe.h"

#define LS_CACHE_DEFAULT	"/var/cache/latencyscope"
#define LS_CACHE_FORMAT		1		/* bump when what a file means changes */
#define LS_CACHE_KEEP		64		/* entries kept; the least recently used go */
#define LS_CACHE_MAX_FILE	(64u << 20)	/* larger is not ours */
#define LS_CACHE_SUFFIX		".probe"

/*
 * ls_cache_dir - where compiled probes are kept, NULL when not at all:
 * --no-cache, not root, or a directory that is not root's alone (a warning
 * says how to fix it). A missing one is made, 0700.
 */
char *ls_cache_dir(const struct ls_opts *o)
{
	const char *dir = o->cache_dir ? o->cache_dir : getenv("LATENCYSCOPE_CACHE_DIR");
	struct stat st;

	if (o->no_cache || geteuid() != 0)
		return NULL;
	if (!dir || !*dir)
		dir = LS_CACHE_DEFAULT;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ls_debug("no probe cache: cannot make %s (%s)", dir, strerror(errno));
		return NULL;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		ls_warn("not using the probe cache %s: it must be a directory of root's that no one "
		    "else can write (compiled probes become kernel code); fix it with `chown root: "
		    "%s && chmod 700 %s`, or pass --no-cache", dir, dir, dir);
		return NULL;
	}
	return ls_xstrdup(dir);
}

/* headers_id - the headers libbcc compiles against, and which files they are now */
static char *headers_id(const char *release)
{
	const char *env = getenv("BCC_KERNEL_SOURCE");
	char *dir = env && *env ? ls_xstrdup(env) : ls_strdup_printf("/lib/modules/%s/build", release);
	char *conf = ls_strdup_printf("%s/include/generated/autoconf.h", dir), *id;
	struct stat st;

	if (stat(conf, &st) < 0)
		memset(&st, 0, sizeof(st));
	id = ls_strdup_printf("%s %llu:%llu %lld %lld.%09ld", dir, (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec);
	free(dir);
	free(conf);
	return id;
}

/* ls_cache_key - everything the compile of src with cf depends on; NULL: no cache */
char *ls_cache_key(const struct ls_probe *p, const struct ls_cflags *cf, const char *src)
{
	struct utsname u;
	char *hdr, *flags = ls_xstrdup(""), *key;

	if (!p->run->cache_dir || uname(&u) < 0)
		return NULL;
	for (int i = 0; i < cf->n; i++) {
		char *f = ls_strdup_printf("%s%s\n", flags, cf->v[i]);

		free(flags);
		flags = f;
	}
	hdr = headers_id(u.release);
	key = ls_strdup_printf("latencyscope %s probe cache %d\nlibbcc %s\nkernel %s %s %s\n"
	    "possible cpus %d\nheaders %s\nprobe %s\n%s--\n%s", PACKAGE_VERSION, LS_CACHE_FORMAT,
	    LIBBCC_VERSION, u.release, u.version, u.machine, ls_nr_possible_cpus(), hdr,
	    p->ops->name, flags, src);
	free(hdr);
	free(flags);
	return key;
}

/* entry_path - the file of a key: a 64-bit FNV-1a hash of it names the file */
static char *entry_path(const struct ls_probe *p, const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return ls_strdup_printf("%s/%s-%016llx" LS_CACHE_SUFFIX, p->run->cache_dir, p->ops->name,
	    (unsigned long long)h);
}

/* read_entry - the file's bytes if it is root's alone, regular and not too big */
static uint8_t *read_entry(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint8_t *buf = NULL;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= LS_CACHE_MAX_FILE) {
		buf = ls_xmalloc((size_t)st.st_size);
		if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)st.st_size;
		futimens(fd, NULL);	/* used now: the last to be evicted */
	} else {
		ls_warn("ignoring the probe cache file %s: not a regular file of root's that no one "
		    "else can write", path);
	}
	close(fd);
	return buf;
}

/* make_maps - the probe's maps, created anew from their definitions */
static int make_maps(struct ls_obj *o, const Latencyscope__Cache__Probe *pb)
{
	o->nmaps = (int)pb->n_maps;
	o->maps = ls_xcalloc(o->nmaps ? o->nmaps : 1, sizeof(*o->maps));
	for (int i = 0; i < o->nmaps; i++)
		o->maps[i].fd = -1;
	for (int i = 0; i < o->nmaps; i++) {
		const Latencyscope__Cache__Map *d = pb->maps[i];
		struct ls_obj_map *m = &o->maps[i];

		m->name = ls_xstrdup(d->name);
		m->type = d->type;
		m->key_size = d->key_size;
		m->value_size = d->value_size;
		m->max_entries = d->max_entries;
		m->flags = d->flags;
		m->fd = bcc_create_map((enum bpf_map_type)m->type, m->name, (int)m->key_size,
		    (int)m->value_size, (int)m->max_entries, (int)m->flags);
		if (m->fd < 0) {
			ls_debug("probe cache: cannot create map %s (%s)", m->name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* make_fn - a function's instructions, each map load given its map's descriptor */
static int make_fn(struct ls_obj *o, struct ls_obj_fn *f, const Latencyscope__Cache__Function *d)
{
	f->name = ls_xstrdup(d->name);
	if (d->insns.len % sizeof(struct bpf_insn) || !d->insns.len)
		return -1;
	f->ninsns = d->insns.len / sizeof(struct bpf_insn);
	f->insns = ls_xmalloc(d->insns.len);
	memcpy(f->insns, d->insns.data, d->insns.len);
	for (size_t k = 0; k + 1 < f->ninsns; k++) {
		if (!ls_obj_map_load(&f->insns[k]))
			continue;
		if (f->insns[k].imm < 0 || f->insns[k].imm >= o->nmaps)
			return -1;
		f->insns[k].imm = o->maps[f->insns[k].imm].fd;
		k++;
	}
	return 0;
}

/* from_message - an object from a cache file's message, its maps created */
static struct ls_obj *from_message(const Latencyscope__Cache__Probe *pb)
{
	struct ls_obj *o = ls_xcalloc(1, sizeof(*o));
	int rc = make_maps(o, pb);

	o->license = ls_xstrdup(pb->license);
	o->kern_version = pb->kern_version;
	o->nfns = (int)pb->n_functions;
	o->fns = ls_xcalloc(o->nfns ? o->nfns : 1, sizeof(*o->fns));
	for (int i = 0; rc == 0 && i < o->nfns; i++)
		rc = make_fn(o, &o->fns[i], pb->functions[i]);
	if (rc < 0) {
		ls_obj_free(o);
		return NULL;
	}
	o->portable = true;
	return o;
}

/*
 * ls_obj_unpack - an object from ls_obj_pack's bytes, its maps created in
 * this process: NULL when they do not parse (*damaged set) or hold another
 * key, or when its maps cannot be made
 */
struct ls_obj *ls_obj_unpack(const uint8_t *buf, size_t len, const char *key, bool *damaged)
{
	Latencyscope__Cache__Probe *pb = latencyscope__cache__probe__unpack(NULL, len, buf);
	size_t klen = strlen(key);
	struct ls_obj *o = NULL;

	*damaged = !pb;
	if (pb && pb->key.len == klen && !memcmp(pb->key.data, key, klen))
		o = from_message(pb);
	if (pb)
		latencyscope__cache__probe__free_unpacked(pb, NULL);
	return o;
}

/*
 * ls_cache_load - the probe compiled from key, its maps created, or NULL
 * when the cache has none (a damaged or foreign file is said and ignored)
 */
struct ls_obj *ls_cache_load(const struct ls_probe *p, const char *key)
{
	char *path = entry_path(p, key);
	size_t len = 0;
	uint8_t *buf = read_entry(path, &len);
	bool damaged = false;
	struct ls_obj *o = buf ? ls_obj_unpack(buf, len, key, &damaged) : NULL;

	if (damaged)
		ls_warn("ignoring the damaged probe cache file %s: the probe is compiled again", path);
	else if (buf && !o)
		ls_debug("%s: %s holds another compile (a hash collision)", p->ops->name, path);
	if (o)
		ls_debug("%s: loaded the compiled probe from the cache, %s", p->ops->name, path);
	free(buf);
	free(path);
	return o;
}

/* to_message - the object's maps and functions, map loads naming map indices */
static void to_message(const struct ls_obj *o, const char *key, Latencyscope__Cache__Probe *pb,
    Latencyscope__Cache__Map *maps, Latencyscope__Cache__Function *fns)
{
	latencyscope__cache__probe__init(pb);
	pb->key.data = (uint8_t *)key;
	pb->key.len = strlen(key);
	pb->license = o->license;
	pb->kern_version = o->kern_version;
	pb->n_maps = (size_t)o->nmaps;
	pb->maps = ls_xcalloc(pb->n_maps + 1, sizeof(*pb->maps));
	for (int i = 0; i < o->nmaps; i++) {
		latencyscope__cache__map__init(&maps[i]);
		maps[i].name = o->maps[i].name;
		maps[i].type = o->maps[i].type;
		maps[i].key_size = o->maps[i].key_size;
		maps[i].value_size = o->maps[i].value_size;
		maps[i].max_entries = o->maps[i].max_entries;
		maps[i].flags = o->maps[i].flags;
		pb->maps[i] = &maps[i];
	}
	pb->n_functions = (size_t)o->nfns;
	pb->functions = ls_xcalloc(pb->n_functions + 1, sizeof(*pb->functions));
	for (int i = 0; i < o->nfns; i++) {
		struct bpf_insn *ins = ls_xcalloc(o->fns[i].ninsns + 1, sizeof(*ins));

		memcpy(ins, o->fns[i].insns, o->fns[i].ninsns * sizeof(*ins));
		for (size_t k = 0; k + 1 < o->fns[i].ninsns; k++) {
			if (!ls_obj_map_load(&ins[k]))
				continue;
			for (int m = 0; m < o->nmaps; m++)
				if (o->maps[m].fd == ins[k].imm) {
					ins[k].imm = m;
					break;
				}
			k++;
		}
		latencyscope__cache__function__init(&fns[i]);
		fns[i].name = o->fns[i].name;
		fns[i].insns.data = (uint8_t *)ins;
		fns[i].insns.len = o->fns[i].ninsns * sizeof(*ins);
		pb->functions[i] = &fns[i];
	}
}

/* evict - keep the LS_CACHE_KEEP most recently used entries */
static void evict(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	time_t oldest = 0;
	char *victim = NULL;

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(LS_CACHE_SUFFIX);
		struct stat st;

		if (l <= sl || strcmp(e->d_name + l - sl, LS_CACHE_SUFFIX) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		n++;
		if (!victim || st.st_mtime < oldest) {
			free(victim);
			victim = ls_xstrdup(e->d_name);
			oldest = st.st_mtime;
		}
	}
	if (n > LS_CACHE_KEEP && victim)
		unlinkat(dirfd(d), victim, 0);
	free(victim);
	if (d)
		closedir(d);
}

/* write_entry - buf as the file at path: a temporary beside it, synced, renamed */
static int write_entry(const char *dir, const char *path, const uint8_t *buf, size_t len)
{
	char *tmp = ls_strdup_printf("%s/.probe.XXXXXX", dir);
	int fd = mkostemp(tmp, O_CLOEXEC), rc = -1;

	if (fd >= 0) {
		if (write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0)
			rc = 0;
		close(fd);
		if (rc == 0 && rename(tmp, path) < 0)
			rc = -1;
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

/*
 * ls_obj_pack - the object as bytes (the cache's format), its map loads
 * naming map indices; NULL when it is not portable (a map libbcc did not
 * define). Caller frees.
 */
uint8_t *ls_obj_pack(const struct ls_obj *o, const char *key, size_t *len)
{
	Latencyscope__Cache__Probe pb;
	Latencyscope__Cache__Map *maps;
	Latencyscope__Cache__Function *fns;
	uint8_t *buf;

	if (!o->portable)
		return NULL;
	maps = ls_xcalloc((size_t)o->nmaps + 1, sizeof(*maps));
	fns = ls_xcalloc((size_t)o->nfns + 1, sizeof(*fns));
	to_message(o, key, &pb, maps, fns);
	*len = latencyscope__cache__probe__get_packed_size(&pb);
	buf = ls_xmalloc(*len ? *len : 1);
	latencyscope__cache__probe__pack(&pb, buf);
	for (int i = 0; i < o->nfns; i++)
		free(fns[i].insns.data);
	free(pb.maps);
	free(pb.functions);
	free(maps);
	free(fns);
	return buf;
}

/* ls_cache_store - keep the probe compiled from key; a failure only costs the next compile */
void ls_cache_store(const struct ls_probe *p, const char *key, const struct ls_obj *o)
{
	size_t len = 0;
	uint8_t *buf = ls_obj_pack(o, key, &len);
	char *path;

	if (!buf) {
		ls_debug("%s: the compiled probe loads a map libbcc did not define: not cached",
		    p->ops->name);
		return;
	}
	path = entry_path(p, key);
	if (write_entry(p->run->cache_dir, path, buf, len) == 0) {
		ls_debug("%s: compiled probe kept in the cache, %s", p->ops->name, path);
		evict(p->run->cache_dir);
	} else {
		ls_debug("%s: cannot keep the compiled probe in %s (%s)", p->ops->name,
		    p->run->cache_dir, strerror(errno));
	}
	free(buf);
	free(path);
}
