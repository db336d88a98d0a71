// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz-parse - libFuzzer target for what the user types: the command line
 * (ls_opts_parse, and through it every option's value parser and the
 * -t thresholds) and the list and duration parsers on their own.
 *
 * Input: one selector byte, then NUL-separated strings. Selector 0 makes the
 * strings argv (after "latencyscope"); 1 parses the first as a CPU list, 2 as
 * a PID list, 3 as a duration, 4 escapes it as a task name. Every parser must
 * return 0 or -1 with a message, never crash, read out of bounds, overflow a
 * float-to-integer cast or leak (ASan, UBSan and LeakSanitizer watch).
 *
 * Run by `make check-fuzz` (a copy built with clang); the seeds are in
 * tests/fuzz/corpus, one file per case, in the same format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

#define MAX_ARGS 32

static void parse_argv(char *s, const char *end)
{
	char *argv[MAX_ARGS + 2] = { "latencyscope" };
	char err[512] = "";
	struct ls_opts o;
	int argc = 1;

	while (s < end && argc <= MAX_ARGS) {
		argv[argc++] = s;
		s += strlen(s) + 1;
	}
	argv[argc] = NULL;
	if (ls_opts_parse(&o, argc, argv, err, sizeof(err)) < 0 && !err[0])
		abort();	/* a refusal must say why */
	ls_opts_free(&o);
}

static void parse_one(int which, const char *s)
{
	char err[512] = "", *t;
	struct ls_cpuset set;
	int pids[LS_MAX_PIDS], npids = 0;
	uint64_t ns;
	int rc = 0;

	switch (which) {
	case 1:
		rc = ls_cpulist_parse(s, &set, s[0] & 1, err, sizeof(err));
		if (!rc)
			free(ls_cpulist_format(&set));
		break;
	case 2:
		rc = ls_pidlist_parse(s, pids, &npids, err, sizeof(err));
		if (npids < 0 || npids > LS_MAX_PIDS)
			abort();
		break;
	case 3:
		rc = ls_parse_duration_ns(s, &ns, err, sizeof(err));
		break;
	default:
		t = ls_strdup_printable(s);
		if (strlen(t) < strlen(s))
			abort();
		free(t);
		break;
	}
	if (rc < 0 && !err[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size < 1 || size > 4096)
		return 0;
	buf = malloc(size + 1);	/* the strings, NUL-terminated whatever the input */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (data[0] % 5 == 0)
		parse_argv(buf, buf + size - 1);
	else
		parse_one(data[0] % 5, buf);
	free(buf);
	return 0;
}
