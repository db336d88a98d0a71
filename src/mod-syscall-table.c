// SPDX-License-Identifier: GPL-2.0-only
/*
 * mod-syscall-table.c - the syscall module's names: syscall numbers to
 * names from the kernel's own header, and --allow-block, whose names are
 * checked against them
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mod-syscall.h"

/*
 * load_names - syscall names by number from the architecture's
 * <asm/unistd_64.h> (the kernel's ABI, from the kernel headers in use or
 * linux-libc-dev); numbers it does not know print as syscall_<nr>
 */
void sc_load_names(struct sc_priv *sp, const struct ls_run *r)
{
	char path[512];
	const char *const cand[] = {
		"/arch/x86/include/generated/uapi/asm/unistd_64.h",	/* under the kernel headers */
		"/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
		"/usr/include/aarch64-linux-gnu/asm/unistd.h",
		"/usr/include/asm/unistd_64.h",
		"/usr/include/asm-generic/unistd.h",
	};
	char *text = NULL;

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]) && !text; i++) {
		if (i == 0 && !r->host->headers)
			continue;
		snprintf(path, sizeof(path), "%s%s", i == 0 ? r->host->headers : "", cand[i]);
		text = ls_read_file(path, NULL);
	}
	if (!text) {
		ls_debug("syscall: no asm/unistd header: syscalls are named by number");
		return;
	}
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char name[64];
		unsigned nr;

		if (sscanf(l, "#define __NR_%63s %u", name, &nr) != 2 || nr >= SC_MAX_NR || sp->names[nr])
			continue;
		sp->names[nr] = ls_xstrdup(name);
	}
	free(text);
}

const char *sc_name(const struct sc_priv *sp, uint32_t nr, char *buf, size_t len)
{
	if (sp && nr < SC_MAX_NR && sp->names[nr])
		return sp->names[nr];
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

static int sc_opt_allow_block(void *opts, const char *arg, char *err, size_t errlen)
{
	struct sc_opts *so = opts;
	size_t len = strlen(arg);

	/* names are checked against this kernel's syscall table in prepare() */
	if (!len || arg[0] == ',' || arg[len - 1] == ',' || strstr(arg, ",,")) {
		snprintf(err, errlen, "bad --allow-block list '%s': give syscall names like "
		    "epoll_wait,read with no empty entry", arg);
		return -1;
	}
	free(so->allow_block);
	so->allow_block = ls_xstrdup(arg);
	return 0;
}

void sc_opts_free(void *opts)
{
	free(((struct sc_opts *)opts)->allow_block);
}

const struct ls_module_opt sc_options[] = {
	{ "allow-block", "LIST", "syscalls the monitored threads are meant to\n"
	    "block or sleep in, like epoll_wait for an event\nloop (futex for its lock waits): "
	    "measured and\nlisted, never a verdict", sc_opt_allow_block },
	{ NULL, NULL, NULL, NULL },
};

/*
 * check_allow_block - every --allow-block name is a syscall of this kernel
 * (or syscall_<nr>, as the report names one the table lacks)
 */
int sc_check_allow_block(const struct sc_priv *sp, const char *list, char *err, size_t errlen)
{
	char *copy = ls_xstrdup(list), *save = NULL;
	int rc = 0;

	for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		const char *near = NULL;
		int best = 3;	/* suggest names within two edits */
		unsigned nr;
		char tail;
		bool known = sscanf(t, "syscall_%u%c", &nr, &tail) == 1 && nr < SC_MAX_NR;

		for (int i = 0; i < SC_MAX_NR && !known; i++) {
			int d;

			if (!sp->names[i])
				continue;
			d = ls_edit_distance(t, sp->names[i]);
			known = d == 0;
			if (d < best) {
				best = d;
				near = sp->names[i];
			}
		}
		if (known)
			continue;
		if (near)
			snprintf(err, errlen, "unknown syscall '%s' in --allow-block: did you mean "
			    "%s? (names as in this kernel's syscall table)", t, near);
		else
			snprintf(err, errlen, "unknown syscall '%s' in --allow-block: not in this "
			    "kernel's syscall table%s", t, sp->names[0] || sp->names[1] ? "" :
			    " (none found: install linux-libc-dev, or name it syscall_<nr>)");
		rc = -1;
	}
	free(copy);
	return rc;
}
