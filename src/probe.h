/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * probe.h - what the probe engine's files share: probe.c (compile, load,
 * attach, events), probe-source.c (the probe as text and its flags) and
 * probe-maps.c (reading maps). Modules use latencyscope.h only.
 */
#ifndef LS_PROBE_H
#define LS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "latencyscope.h"

/* the names libbcc gives TRACEPOINT_PROBE and RAW_TRACEPOINT_PROBE functions */
#define LS_FN_PREFIX "tracepoint__"
#define LS_RAW_PREFIX "raw_tracepoint__"

/* probe-source.c */
void	 ls_cflags_add(struct ls_cflags *c, char *s);
void	 ls_cflags_free(struct ls_cflags *c);
bool	 ls_kernel_at_least(const char *release, int maj, int min);
int	 ls_probe_scan_tracepoints(struct ls_probe *p, const char *text, const struct ls_host *h);
void	 ls_probe_engine_flags(struct ls_cflags *cf, const struct ls_probe *p, const struct ls_run *r);
unsigned ls_event_pages(const struct ls_run *r);
bool	 ls_fn_to_tracepoint(const char *fn, char *cat, size_t catlen, char *ev, size_t evlen);
const char *ls_tail_lines(const char *s, int n);
void	 ls_verifier_where(const char *log, const char *src, char *out, size_t outlen);
char	*ls_expand_includes(const char *text, const char *dir, const char *path, int depth,
	    char *err, size_t errlen);

/* probe-maps.c */
int	 ls_probe_check_maps(struct ls_probe *p, const struct ls_module_ops *ops, char *err,
	    size_t errlen);

#endif /* LS_PROBE_H */
