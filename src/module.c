// SPDX-License-Identifier: GPL-2.0-only
/* module.c - the module registry and verdict thresholds */

#include "config.h"
#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

/* ls_modules - every module this build has, in report order */
const struct ls_module_ops *const ls_modules[] = {
	&ls_mod_isolation,
	&ls_mod_irq,
	&ls_mod_syscall,
	&ls_mod_memory,
	&ls_mod_network,
	&ls_mod_noise,
	&ls_mod_wallclock,
	NULL,
};

/* ls_module_find - a module by name, NULL when unknown */
const struct ls_module_ops *ls_module_find(const char *name)
{
	for (int i = 0; ls_modules[i]; i++)
		if (strcmp(ls_modules[i]->name, name) == 0)
			return ls_modules[i];
	return NULL;
}

/* ls_module_index - a module's place in ls_modules (its slot in ls_opts) */
int ls_module_index(const struct ls_module_ops *m)
{
	for (int i = 0; ls_modules[i]; i++)
		if (ls_modules[i] == m)
			return i;
	return -1;
}

/* ls_module_opts - the module's own options, parsed (or its defaults) */
const void *ls_module_opts(const struct ls_opts *o, const struct ls_module_ops *m)
{
	int i = ls_module_index(m);

	return i < 0 ? NULL : o->modopts[i];
}

bool ls_module_selected(const struct ls_opts *o, const struct ls_module_ops *m)
{
	for (int i = 0; i < o->nmodules; i++)
		if (!strcmp(o->modules[i], m->name))
			return true;
	return false;
}

/* ls_profiling_module - the selected module that records stacks, NULL: none */
const struct ls_module_ops *ls_profiling_module(const struct ls_opts *o)
{
	for (int i = 0; ls_modules[i]; i++)
		if (ls_modules[i]->profiles && ls_module_selected(o, ls_modules[i]))
			return ls_modules[i];
	return NULL;
}

static const struct ls_threshold_def *threshold_def(const char *key)
{
	for (int i = 0; ls_modules[i]; i++)
		for (const struct ls_threshold_def *d = ls_modules[i]->thresholds; d && d->key; d++)
			if (strcmp(d->key, key) == 0)
				return d;
	return NULL;
}

/*
 * ls_thresholds_init - every module's defaults, then the --threshold
 * overrides; an unknown key or a bad value is an error that lists the keys.
 */
int ls_thresholds_init(struct ls_thresholds *t, const struct ls_opts *o, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; ls_modules[i]; i++) {
		for (const struct ls_threshold_def *d = ls_modules[i]->thresholds; d && d->key; d++) {
			if (t->n >= (int)(sizeof(t->v) / sizeof(t->v[0])))
				break;
			t->v[t->n].key = d->key;
			t->v[t->n].value = d->def;
			t->n++;
		}
	}
	for (int i = 0; i < o->nthresholds; i++) {
		const struct ls_threshold_def *d = threshold_def(o->thresholds[i].key);
		const char *val = o->thresholds[i].value;
		char verr[200];
		uint64_t v;

		if (!d) {
			int n = snprintf(err, errlen, "unknown threshold '%s'; known keys:",
			    o->thresholds[i].key);

			for (int k = 0; k < t->n && n < (int)errlen; k++)
				n += snprintf(err + n, errlen - n, "%s %s", k ? "," : "", t->v[k].key);
			return -1;
		}
		if (d->unit == LS_T_NS) {
			if (ls_parse_duration_ns(val, &v, verr, sizeof(verr)) < 0) {
				snprintf(err, errlen, "threshold %s: %s", d->key, verr);
				return -1;
			}
		} else {
			char *end;

			errno = 0;
			v = strtoull(val, &end, 10);
			if (end == val || *end || val[0] == '-' || errno) {
				snprintf(err, errlen, "threshold %s: '%s' is not a count (a whole number "
				    "like 10)", d->key, val);
				return -1;
			}
		}
		for (int k = 0; k < t->n; k++)
			if (strcmp(t->v[k].key, d->key) == 0)
				t->v[k].value = v;
	}
	return 0;
}

/* ls_threshold - the value in force for key (modules only ask for their own keys) */
uint64_t ls_threshold(const struct ls_thresholds *t, const char *key)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return t->v[i].value;
	return UINT64_MAX;
}
