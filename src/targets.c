// SPDX-License-Identifier: GPL-2.0-only
/*
 * targets.c - the processes named by --pid, watched for their exit.
 *
 * A target that exits (during the compile, or mid-run) leaves nothing to
 * measure; without this, the modules would judge its silence ("never
 * switched", a PASS). Each target's start time from /proc/PID/stat is kept,
 * so a PID reused by another process is an exit too. Checked from the main
 * loop (every 100 ms at most): /proc works on every kernel the tool runs on,
 * pidfds only from 5.3, and a tenth of a second is the resolution the note
 * gives.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"

/*
 * stat_start - the process's start time (clock ticks since boot), or 0 when
 * it is gone or a zombie: a zombie has exited, only its parent has not
 * reaped it yet
 */
static unsigned long long stat_start(int pid)
{
	unsigned long long start = 0;
	char path[64], *buf, *p, state;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(buf = ls_read_file(path, NULL)))
		return 0;
	/* the name may hold spaces and ')': the fields start after the last ')' */
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%*s %*s %*s %*s %llu", &state, &start) == 2 && (state == 'Z' || state == 'X'))
		start = 0;
	free(buf);
	return start;
}

/* ls_targets_init - note each target's start time; call before the compile */
void ls_targets_init(struct ls_targets *t, const int *pids, int n)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < n && i < LS_MAX_PIDS; i++) {
		t->t[i].pid = pids[i];
		t->t[i].start = stat_start(pids[i]);
		t->t[i].exited_s = -1;
	}
	t->n = n < LS_MAX_PIDS ? n : LS_MAX_PIDS;
}

/*
 * ls_targets_check - which targets have exited by now (seconds since the run
 * started; at or before 0 = before tracing started); true when every target
 * is gone
 */
bool ls_targets_check(struct ls_targets *t, double now_s)
{
	for (int i = 0; i < t->n; i++) {
		struct ls_target *x = &t->t[i];

		if (x->exited_s >= 0 || (x->start && stat_start(x->pid) == x->start))
			continue;
		x->exited_s = now_s > 0 ? now_s : 0;
		x->before_start = now_s <= 0;
		t->nexited++;
		ls_debug("PID %d exited (+%.1f s)", x->pid, x->exited_s);
	}
	return t->n && t->nexited == t->n;
}

/* ls_targets_gone_before - every target exited before tracing started */
bool ls_targets_gone_before(const struct ls_targets *t)
{
	for (int i = 0; i < t->n; i++)
		if (!t->t[i].before_start)
			return false;
	return t->n > 0;
}

/*
 * ls_targets_notes - one note per exited target in a module's section; when
 * every target was gone before tracing, the module measured nothing of them
 */
void ls_targets_notes(const struct ls_targets *t, struct ls_section *s)
{
	for (int i = 0; i < t->n; i++) {
		const struct ls_target *x = &t->t[i];

		if (x->before_start)
			ls_section_note(s, "PID %d exited before tracing started: nothing of it was "
			    "measured", x->pid);
		else if (x->exited_s >= 0)
			ls_section_note(s, "PID %d exited at +%.1f s; not measured after", x->pid,
			    x->exited_s);
	}
	if (ls_targets_gone_before(t))
		s->verdict = LS_NOT_MEASURED;
}

/* ls_target_exited - whether a target has exited (modules judge silence by it) */
bool ls_target_exited(const struct ls_run *r, int pid)
{
	for (int i = 0; r->targets && i < r->targets->n; i++)
		if (r->targets->t[i].pid == pid)
			return r->targets->t[i].exited_s >= 0;
	return false;
}
