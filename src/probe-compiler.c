// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe-compiler.c - the compiling half of libbcc, loaded when a probe has
 * to be compiled and not before.
 *
 * libbcc comes in two libraries: libbcc_bpf (maps, program loads, attach,
 * perf and ring buffers, symbols), which latencyscope links, and libbcc,
 * which adds the C compiler and with it clang and LLVM. Mapping those two
 * costs ~55 MiB of private memory for their relocations alone, whether or
 * not anything is compiled. A probe loaded from the cache needs none of it,
 * so the compiler is opened here on first use with dlopen(), its entry
 * points typed by libbcc's own header.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>

#include <bcc/bcc_common.h>

#include "latencyscope.h"
#include "probe.h"

#define LS_BCC_SONAME "libbcc.so.0"

static struct ls_bcc_cc cc;
static int cc_state;	/* 0: not tried, 1: loaded, -1: failed (cc_err says why) */
static char cc_err[512];

/* sym - one entry point of the compiler library, or NULL with cc_err set */
static void *sym(void *lib, const char *name)
{
	void *f = dlsym(lib, name);

	if (!f && !cc_err[0])
		snprintf(cc_err, sizeof(cc_err), "%s has no %s", LS_BCC_SONAME, name);
	return f;
}

#define LS_CC_SYM(field, name) \
	(cc.field = (__typeof__(&name))sym(lib, #name))

static int cc_open(void)
{
	void *lib = dlopen(LS_BCC_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		snprintf(cc_err, sizeof(cc_err), "%s", dlerror());
		return -1;
	}
	LS_CC_SYM(module_create, bpf_module_create_c_from_string);
	LS_CC_SYM(module_destroy, bpf_module_destroy);
	LS_CC_SYM(module_license, bpf_module_license);
	LS_CC_SYM(module_kern_version, bpf_module_kern_version);
	LS_CC_SYM(num_functions, bpf_num_functions);
	LS_CC_SYM(function_name, bpf_function_name);
	LS_CC_SYM(function_start, bpf_function_start_id);
	LS_CC_SYM(function_size, bpf_function_size_id);
	LS_CC_SYM(num_tables, bpf_num_tables);
	LS_CC_SYM(table_name, bpf_table_name);
	LS_CC_SYM(table_fd, bpf_table_fd_id);
	LS_CC_SYM(table_type, bpf_table_type_id);
	LS_CC_SYM(table_key_size, bpf_table_key_size_id);
	LS_CC_SYM(table_leaf_size, bpf_table_leaf_size_id);
	LS_CC_SYM(table_max_entries, bpf_table_max_entries_id);
	LS_CC_SYM(table_flags, bpf_table_flags_id);
	LS_CC_SYM(func_load, bcc_func_load);
	if (cc_err[0]) {
		dlclose(lib);
		return -1;
	}
	/*
	 * never closed: libLLVM cannot be unloaded (glibc keeps a library with
	 * unique C++ symbols mapped), which is why probes compile in a child
	 * process (compile_start in probe.c) whose exit takes its ~90 MiB
	 */
	return 0;
}

/* ls_bcc_cc_loaded - whether the compiler was opened (see ls_exit in latencyscope.c) */
bool ls_bcc_cc_loaded(void)
{
	return cc_state > 0;
}

/*
 * ls_bcc_cc - the compiler's entry points, opened on the first call; NULL
 * with the reason and the fix in err when libbcc cannot be loaded
 */
const struct ls_bcc_cc *ls_bcc_cc(char *err, size_t errlen)
{
	if (!cc_state)
		cc_state = cc_open() == 0 ? 1 : -1;
	if (cc_state > 0)
		return &cc;
	snprintf(err, errlen, "cannot load libbcc's compiler to compile the probes (%s): install "
	    "libbpfcc (Debian/Ubuntu) or bcc (Fedora), or run with a probe cache that holds them",
	    cc_err);
	return NULL;
}

