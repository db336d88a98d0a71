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
#include <stdint.h>

#include <bcc/bcc_common.h>

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

/* probe-compiler.c - libbcc's compiler (clang, LLVM), opened on first use */
struct ls_bcc_cc {
	__typeof__(&bpf_module_create_c_from_string) module_create;
	__typeof__(&bpf_module_destroy) module_destroy;
	__typeof__(&bpf_module_license) module_license;
	__typeof__(&bpf_module_kern_version) module_kern_version;
	__typeof__(&bpf_num_functions) num_functions;
	__typeof__(&bpf_function_name) function_name;
	__typeof__(&bpf_function_start_id) function_start;
	__typeof__(&bpf_function_size_id) function_size;
	__typeof__(&bpf_num_tables) num_tables;
	__typeof__(&bpf_table_name) table_name;
	__typeof__(&bpf_table_fd_id) table_fd;
	__typeof__(&bpf_table_type_id) table_type;
	__typeof__(&bpf_table_key_size_id) table_key_size;
	__typeof__(&bpf_table_leaf_size_id) table_leaf_size;
	__typeof__(&bpf_table_max_entries_id) table_max_entries;
	__typeof__(&bpf_table_flags_id) table_flags;
	__typeof__(&bcc_func_load) func_load;
};
const struct ls_bcc_cc *ls_bcc_cc(char *err, size_t errlen);
bool	ls_bcc_cc_loaded(void);

/*
 * probe-object.c - a compiled probe as the engine uses it, whether libbcc
 * compiled it or the probe cache kept it: its maps (the descriptors are the
 * object's own) and each function's instructions, whose map loads hold
 * those descriptors
 */
struct bpf_insn;
struct ls_obj_map {
	char		*name;
	int		 fd;
	uint32_t	 type, key_size, value_size, max_entries, flags;
};
struct ls_obj_fn {
	char		*name;
	struct bpf_insn	*insns;
	size_t		 ninsns;
};
struct ls_obj {
	char		*license;
	unsigned	 kern_version;
	int		 nmaps, nfns;
	struct ls_obj_map *maps;
	struct ls_obj_fn *fns;
	bool		 portable;	/* every map load names one of maps: the cache may keep it */
};
struct ls_obj	*ls_obj_from_module(const struct ls_bcc_cc *cc, void *mod);
const struct ls_obj_map *ls_obj_map(const struct ls_obj *o, const char *name);
bool	 ls_obj_map_load(const struct bpf_insn *insn);
void	 ls_obj_free(struct ls_obj *o);

/* probe-cache.c - compiled probes kept by what they were compiled from */
char	*ls_cache_key(const struct ls_probe *p, const struct ls_cflags *cf, const char *src);
struct ls_obj *ls_cache_load(const struct ls_probe *p, const char *key);
void	 ls_cache_store(const struct ls_probe *p, const char *key, const struct ls_obj *o);
uint8_t *ls_obj_pack(const struct ls_obj *o, const char *key, size_t *len);
struct ls_obj *ls_obj_unpack(const uint8_t *buf, size_t len, const char *key, bool *damaged);

/* probe-maps.c */
int	 ls_probe_check_maps(struct ls_probe *p, const struct ls_module_ops *ops, char *err,
	    size_t errlen);

#endif /* LS_PROBE_H */
