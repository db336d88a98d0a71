// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe-maps.c - reading a loaded probe's maps: the layout check against
 * the sizes this binary was built with, per-CPU and hash reads, the one-slot
 * settings, and the lost-event counts.
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/libbpf.h>

#include "latencyscope.h"
#include "probe.h"

/* the engine's own maps (probes/latencyscope.h); ls_tgid, ls_pidbits exist with --pid only */
static const struct ls_map_layout engine_maps[] = {
	LS_MAP("ls_gate", uint32_t, uint32_t),
	LS_MAP("ls_start", uint32_t, uint64_t),
	LS_MAP("ls_lost", uint32_t, uint64_t),
	LS_MAP("ls_self", uint32_t, uint32_t),
	LS_MAP("ls_tgid", uint32_t, uint32_t),
	LS_MAP("ls_pidbits", uint32_t, uint64_t),
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
		const struct ls_obj_map *om = ls_obj_map(p->obj, m->name);
		size_t ks, vs;

		if (!om) {
			if (engine)
				continue;
			snprintf(err, errlen, "probe file %s has no map %s, which latencyscope reads: "
			    "the probe and the binary are from different versions (rebuild with make, "
			    "or point --probes-dir at the probes it was built with)", p->path, m->name);
			return -1;
		}
		ks = om->key_size;
		vs = om->value_size;
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

int ls_probe_check_maps(struct ls_probe *p, const struct ls_module_ops *ops, char *err, size_t errlen)
{
	if (check_layout(p, engine_maps, true, err, errlen) < 0)
		return -1;
	return check_layout(p, ops->maps, false, err, errlen);
}

/* ls_probe_table_fd - a map of the probe by name, -1 when it has none */
int ls_probe_table_fd(const struct ls_probe *p, const char *name)
{
	const struct ls_obj_map *m = ls_obj_map(p->obj, name);

	return m ? m->fd : -1;
}

/* ls_probe_table_max_entries - how many entries a map of the probe holds, 0 without it */
uint32_t ls_probe_table_max_entries(const struct ls_probe *p, const char *name)
{
	const struct ls_obj_map *m = ls_obj_map(p->obj, name);

	return m ? m->max_entries : 0;
}

/* value_size - the value size of a map of the probe, 0 without it */
static size_t value_size_of(const struct ls_probe *p, const char *name)
{
	const struct ls_obj_map *m = ls_obj_map(p->obj, name);

	return m ? m->value_size : 0;
}

static size_t key_size_of(const struct ls_probe *p, const char *name)
{
	const struct ls_obj_map *m = ls_obj_map(p->obj, name);

	return m ? m->key_size : 0;
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
	if (fd < 0 || value_size_of(p, table) != value_size)
		return -1;
	buf = ls_xcalloc(ncpu, stride);
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
	char *v = ls_xcalloc(ncpu, value_size);
	uint64_t *sum = out;

	memset(out, 0, value_size);
	rc = ls_probe_read_percpu(p, table, key, v, value_size);
	for (int c = 0; rc == 0 && c < ncpu; c++)
		for (size_t k = 0; k < value_size / sizeof(uint64_t); k++)
			sum[k] += ((uint64_t *)(v + (size_t)c * value_size))[k];
	free(v);
	return rc;
}

#define KEY_MAX	256	/* the longest key read_keys() walks; callers refuse longer */

/*
 * read_keys - every key of hash map fd (ks bytes each, at most KEY_MAX), walked
 * before anything is done with them: deleting under bpf_get_next_key would
 * restart the walk. Caller frees; *n gets the count.
 */
static char *read_keys(int fd, size_t ks, int *n)
{
	int cap = 256;
	char *keys = ls_xcalloc(cap, ks ? ks : 1), key[KEY_MAX], next[KEY_MAX];
	bool first = true;

	*n = 0;
	while (bpf_get_next_key(fd, first ? NULL : key, next) == 0) {
		first = false;
		memcpy(key, next, ks);
		if (*n == cap)	/* doubled: maps hold tens of thousands of keys */
			keys = ls_xrealloc(keys, (size_t)(cap *= 2) * ks);
		memcpy(keys + (size_t)(*n)++ * ks, key, ks);
	}
	return keys;
}

/*
 * ls_probe_read_hash - every entry of a hash map as an array of entsize-byte
 * records, the key at offset 0 and the value at voff; *n gets the count.
 * Caller frees.
 */
void *ls_probe_read_hash(const struct ls_probe *p, const char *name, size_t entsize, size_t voff,
    int *n)
{
	int fd = ls_probe_table_fd(p, name), nkeys;
	size_t ks = key_size_of(p, name), vs = value_size_of(p, name);
	char *arr, *keys;

	*n = 0;
	if (fd < 0)
		return ls_xcalloc(1, entsize);
	if (ks > KEY_MAX || ks > voff || voff + vs > entsize) {
		/* a layout the caller does not match: a bug, said rather than an empty table */
		ls_warn("%s: map %s has %zu-byte keys and %zu-byte values, which its reader's "
		    "records do not hold: it is read as empty", p->ops->name, name, ks, vs);
		return ls_xcalloc(1, entsize);
	}
	keys = read_keys(fd, ks, &nkeys);
	arr = ls_xcalloc(nkeys ? nkeys : 1, entsize);
	for (int i = 0; i < nkeys; i++) {
		char *e = arr + (size_t)*n * entsize;

		memcpy(e, keys + (size_t)i * ks, ks);
		if (bpf_lookup_elem(fd, e, e + voff) == 0)
			(*n)++;
		else
			memset(e, 0, entsize);	/* deleted since the walk */
	}
	free(keys);
	return arr;
}

/* gone - whether thread (or process) id has exited: signal 0 finds no such task */
static bool gone(uint32_t id)
{
	return id && kill((pid_t)id, 0) < 0 && errno == ESRCH;
}

/* prune_hash - delete the entries of m whose key's id is gone; the count deleted */
static uint64_t prune_hash(const struct ls_probe *p, const struct ls_prune_map *m)
{
	int fd = ls_probe_table_fd(p, m->name), n;
	size_t ks = key_size_of(p, m->name);
	uint64_t deleted = 0;
	uint32_t id;
	char *keys;

	if (fd < 0 || ks > KEY_MAX || m->off + sizeof(id) > ks)
		return 0;
	keys = read_keys(fd, ks, &n);
	for (int i = 0; i < n; i++) {
		memcpy(&id, keys + (size_t)i * ks + m->off, sizeof(id));
		deleted += gone(id) && bpf_delete_elem(fd, keys + (size_t)i * ks) == 0;
	}
	free(keys);
	return deleted;
}

/* prune_array - zero the slots of m whose owner (in the value) is gone */
static uint64_t prune_array(const struct ls_probe *p, const struct ls_prune_map *m)
{
	int fd = ls_probe_table_fd(p, m->name);
	uint32_t max = fd < 0 ? 0 : ls_probe_table_max_entries(p, m->name), id;
	size_t vs = value_size_of(p, m->name);
	char *v = ls_xcalloc(1, vs ? vs : 1), *zero = ls_xcalloc(1, vs ? vs : 1);
	uint64_t cleared = 0;

	for (uint32_t i = 0; m->off + sizeof(id) <= vs && i < max; i++) {
		if (bpf_lookup_elem(fd, &i, v) < 0)
			continue;
		memcpy(&id, v + m->off, sizeof(id));
		cleared += gone(id) && bpf_update_elem(fd, &i, zero, BPF_ANY) == 0;
	}
	free(v);
	free(zero);
	return cleared;
}

/*
 * ls_probe_prune - with --interval, after an interval's report: remove from
 * the module's per-thread maps (ops->interval->prune) the threads and
 * processes that have exited. A thread that exits and whose id is reused
 * within the moment between the check and the delete loses its first counts.
 */
uint64_t ls_probe_prune(struct ls_probe *p)
{
	const struct ls_prune_map *m = p->ops->interval ? p->ops->interval->prune : NULL;
	uint64_t n = 0;

	for (; p->obj && m && m->name; m++)
		n += m->in_value ? prune_array(p, m) : prune_hash(p, m);
	p->pruned += n;
	if (n)
		ls_debug("%s: %llu entries of exited threads removed", p->ops->name, (unsigned long long)n);
	return n;
}

/*
 * ls_probe_stats - add the kernel's counts for the probe's programs to st:
 * run time and runs (with the BPF statistics on), and the runs it skipped
 * because another BPF program was running on that CPU (its recursion
 * protection: a tracepoint that fires inside one of ours, or inside
 * another tool's), from attach until now. Kernels before 5.12 do not count
 * skipped runs, and those before 6.7 count them for raw tracepoints only.
 */
void ls_probe_stats(const struct ls_probe *p, struct ls_prog_stats *st)
{
	for (int i = 0; i < p->nprogs; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info(p->progs[i].prog_fd, &info, &len) < 0)
			continue;
		st->run_time_ns += info.run_time_ns;
		st->run_cnt += info.run_cnt;
		st->missed += info.recursion_misses;
		st->nprogs++;
	}
}

/*
 * ls_probe_lost - events the kernel side could not deliver; per_cpu (possible
 * CPUs entries, or NULL) accumulates them by CPU
 */
uint64_t ls_probe_lost(const struct ls_probe *p, uint64_t *per_cpu)
{
	int ncpu = ls_nr_possible_cpus();
	uint64_t *v = ls_xcalloc(ncpu, sizeof(*v)), sum = 0;

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

/*
 * ls_probe_budget - the latency budget the jitter tax judges against (a
 * summary's above_budget share), 0 when no jitter tax was asked for
 */
uint64_t ls_probe_budget(const struct ls_probe *p)
{
	const struct ls_opts *o = p->run ? p->run->opts : NULL;

	return o && o->volume > 0 ? o->latency_budget_ns : 0;
}
