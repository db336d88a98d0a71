/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mod-syscall.h - what the syscall module's two files share: its state,
 * options and syscall table (mod-syscall-table.c)
 */
#ifndef LS_MOD_SYSCALL_H
#define LS_MOD_SYSCALL_H

#include "latencyscope.h"
#include "syscall.h"

#define SC_WORST 10
#define SC_MAX_NR 1024

struct sc_priv {
	char		*names[SC_MAX_NR];	/* syscall names by number */
};

/* the syscall module's options: --allow-block */
struct sc_opts {
	char	*allow_block;	/* comma-separated syscall names; NULL: none */
};
extern const struct ls_module_opt sc_options[];
void	 sc_opts_free(void *opts);

void	 sc_load_names(struct sc_priv *sp, const struct ls_run *r);
const char *sc_name(const struct sc_priv *sp, uint32_t nr, char *buf, size_t len);
int	 sc_check_allow_block(const struct sc_priv *sp, const char *list, char *err, size_t errlen);

#endif /* LS_MOD_SYSCALL_H */
