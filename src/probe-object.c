// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe-object.c - a compiled probe as the engine keeps it once libbcc has
 * compiled it: the maps (descriptors of its own, so the libbcc module and
 * the compiler's memory can go as soon as the programs are loaded) and each
 * function's instructions. The probe cache stores and rebuilds the same.
 */

#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <linux/bpf.h>

#include "latencyscope.h"
#include "probe.h"

/* ls_obj_map_load - the first half of a 64-bit load of a map by its descriptor */
bool ls_obj_map_load(const struct bpf_insn *insn)
{
	return insn->code == (BPF_LD | BPF_DW | BPF_IMM) && insn->src_reg == BPF_PSEUDO_MAP_FD;
}

/* copy_maps - every table of the module, its descriptor duplicated */
static void copy_maps(const struct ls_bcc_cc *cc, struct ls_obj *o, void *mod, int *orig)
{
	o->nmaps = (int)cc->num_tables(mod);
	o->maps = ls_xcalloc(o->nmaps ? o->nmaps : 1, sizeof(*o->maps));
	for (int i = 0; i < o->nmaps; i++) {
		struct ls_obj_map *m = &o->maps[i];

		m->name = ls_xstrdup(cc->table_name(mod, i));
		orig[i] = cc->table_fd(mod, i);
		m->fd = orig[i] < 0 ? -1 : fcntl(orig[i], F_DUPFD_CLOEXEC, 3);
		m->type = (uint32_t)cc->table_type(mod, i);
		m->key_size = (uint32_t)cc->table_key_size(mod, i);
		m->value_size = (uint32_t)cc->table_leaf_size(mod, i);
		m->max_entries = (uint32_t)cc->table_max_entries(mod, i);
		m->flags = (uint32_t)cc->table_flags(mod, i);
	}
}

/*
 * copy_fn - a function's instructions, each map load moved to the object's
 * descriptor; one naming no map of the module makes the object unportable
 */
static void copy_fn(const struct ls_bcc_cc *cc, struct ls_obj *o, struct ls_obj_fn *f, void *mod,
    size_t id, const int *orig)
{
	size_t bytes = cc->function_size(mod, id);

	f->name = ls_xstrdup(cc->function_name(mod, id));
	f->ninsns = bytes / sizeof(struct bpf_insn);
	f->insns = ls_xcalloc(f->ninsns ? f->ninsns : 1, sizeof(struct bpf_insn));
	memcpy(f->insns, cc->function_start(mod, id), f->ninsns * sizeof(struct bpf_insn));
	for (size_t k = 0; k + 1 < f->ninsns; k++) {
		int m;

		if (!ls_obj_map_load(&f->insns[k]))
			continue;
		for (m = 0; m < o->nmaps && orig[m] != f->insns[k].imm; m++)
			;
		if (m < o->nmaps && o->maps[m].fd >= 0)
			f->insns[k].imm = o->maps[m].fd;
		else
			o->portable = false;
		k++;	/* the load's second half */
	}
}

/* ls_obj_from_module - what the engine needs of a module libbcc compiled */
struct ls_obj *ls_obj_from_module(const struct ls_bcc_cc *cc, void *mod)
{
	struct ls_obj *o = ls_xcalloc(1, sizeof(*o));
	int *orig = ls_xcalloc(cc->num_tables(mod) + 1, sizeof(*orig));

	o->portable = true;
	o->license = ls_xstrdup(cc->module_license(mod) ? cc->module_license(mod) : "GPL");
	o->kern_version = cc->module_kern_version(mod);
	copy_maps(cc, o, mod, orig);
	for (int i = 0; i < o->nmaps; i++)
		if (o->maps[i].fd < 0)
			o->portable = false;
	o->nfns = (int)cc->num_functions(mod);
	o->fns = ls_xcalloc(o->nfns ? o->nfns : 1, sizeof(*o->fns));
	for (int i = 0; i < o->nfns; i++)
		copy_fn(cc, o, &o->fns[i], mod, (size_t)i, orig);
	free(orig);
	return o;
}

/* ls_obj_map - a map by name, NULL when the probe has none */
const struct ls_obj_map *ls_obj_map(const struct ls_obj *o, const char *name)
{
	for (int i = 0; o && i < o->nmaps; i++)
		if (!strcmp(o->maps[i].name, name))
			return o->maps[i].fd >= 0 ? &o->maps[i] : NULL;
	return NULL;
}

/* ls_obj_free - close the maps (loaded programs keep what they use) and free */
void ls_obj_free(struct ls_obj *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->nmaps; i++) {
		if (o->maps[i].fd >= 0)
			close(o->maps[i].fd);
		free(o->maps[i].name);
	}
	for (int i = 0; i < o->nfns; i++) {
		free(o->fns[i].name);
		free(o->fns[i].insns);
	}
	free(o->maps);
	free(o->fns);
	free(o->license);
	free(o);
}
