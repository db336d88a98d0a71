// SPDX-License-Identifier: GPL-2.0-only
/*
 * overhead.c - the probes' own cost, from the kernel's BPF run-time
 * statistics. Statistics are switched on with BPF_ENABLE_STATS, whose file
 * descriptor switches them off again when closed, even if we crash; older
 * kernels get kernel.bpf_stats_enabled written and restored.
 *
 * The statistics are not free: with them on, every program run reads the
 * clock twice more (an empty program measures 40-55 ns with them on a VM
 * with speculation mitigations, as much as a cheap probe). Nor is
 * switching them: the switch is a static key, so the kernel patches every
 * place that runs a BPF program and interrupts every CPU to do it (three
 * function-call IPIs per switch on x86), the monitored ones included. So
 * by default (--self-cost auto) they are used only when someone already
 * keeps them on, at no cost to us. --self-cost full switches them on just
 * before the gates open and off after they close: every run counted, no
 * interrupt inside the measured time. --self-cost sampled keeps them on
 * for a window of LS_SELF_COST_WINDOW_NS at the start of every
 * LS_SELF_COST_PERIOD_NS; the run time and run count of the programs are
 * read at both ends of each window and only those differences count
 * (statistics someone else keeps on in between do not), then scaled to the
 * whole run; the report counts the switches it made during the run.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <linux/bpf.h>

#include "latencyscope.h"

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"
#define LS_SELF_COST_PERIOD_NS 1000000000ULL
#define LS_SELF_COST_WINDOW_NS 50000000ULL

static struct {
	enum ls_self_cost mode;
	bool	 usable;	/* the kernel can keep statistics */
	bool	 by_sysctl;	/* no BPF_ENABLE_STATS: the sysctl is the switch */
	bool	 already_on;	/* the sysctl was 1 before us: nothing to switch */
	int	 fd;		/* BPF_ENABLE_STATS, while a window is open */
	bool	 open;
	uint64_t opened_ns, next_ns, enabled_ns;
	uint64_t snap_time, snap_cnt;	/* the programs' totals when the window opened */
	uint64_t run_time, run_cnt;	/* summed over closed windows */
	unsigned switches;	/* made while the gates were open */
	char	 why_not[320];
} oh = { .fd = -1 };

static int write_sysctl(int v)
{
	FILE *f = fopen(STATS_SYSCTL, "we");

	if (!f)
		return -1;
	fprintf(f, "%d\n", v);
	return fclose(f);
}

/* totals - run time and count summed over every attached program */
static void totals(const struct ls_probe *probes, int nprobes, uint64_t *time, uint64_t *cnt,
    int *nprogs)
{
	struct ls_prog_stats st = { 0 };

	for (int i = 0; i < nprobes; i++)
		ls_probe_stats(&probes[i], &st);
	*time = st.run_time_ns;
	*cnt = st.run_cnt;
	if (nprogs)
		*nprogs = st.nprogs;
}

/* stats_on - switch the kernel's statistics on; -1 with why_not set */
static int stats_on(void)
{
	if (oh.already_on)
		return 0;
	if (!oh.by_sysctl) {
#ifdef HAVE_BPF_ENABLE_STATS
		union bpf_attr attr;

		memset(&attr, 0, sizeof(attr));
		attr.enable_stats.type = BPF_STATS_RUN_TIME;
		oh.fd = (int)syscall(SYS_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
		if (oh.fd >= 0)
			return 0;
		snprintf(oh.why_not, sizeof(oh.why_not), "BPF_ENABLE_STATS failed: %s", strerror(errno));
#endif
		return -1;
	}
	if (write_sysctl(1) < 0) {
		snprintf(oh.why_not, sizeof(oh.why_not), "cannot enable kernel.bpf_stats_enabled: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void stats_off(void)
{
	if (oh.fd >= 0) {
		close(oh.fd);
		oh.fd = -1;
	}
	if (oh.by_sysctl && !oh.already_on)
		write_sysctl(0);
}

/*
 * ls_overhead_enable - find out whether the kernel keeps BPF run-time
 * statistics (switching them on once to see); -1 when it cannot
 */
int ls_overhead_enable(enum ls_self_cost mode)
{
	uint64_t old;

	oh.mode = mode;
	if (mode == LS_SELF_COST_OFF) {
		snprintf(oh.why_not, sizeof(oh.why_not), "switched off with --self-cost off");
		return -1;
	}
	if (ls_read_u64_file(STATS_SYSCTL, &old) == 0 && old)
		oh.already_on = true;	/* kept on by someone else: measuring costs us nothing */
	if (mode == LS_SELF_COST_AUTO && !oh.already_on) {
		snprintf(oh.why_not, sizeof(oh.why_not), "switching the kernel's BPF statistics on "
		    "would interrupt every CPU during the run; --self-cost full switches them only "
		    "before and after it and counts every event");
		return -1;
	}
#ifndef HAVE_BPF_ENABLE_STATS
	oh.by_sysctl = true;
#endif
	if (!oh.by_sysctl && stats_on() < 0)
		oh.by_sysctl = true;	/* a kernel before 5.8 */
	if (oh.by_sysctl && !oh.already_on) {
		if (ls_read_u64_file(STATS_SYSCTL, &old) < 0) {
			snprintf(oh.why_not, sizeof(oh.why_not), "this kernel has no BPF run-time "
			    "statistics (kernel.bpf_stats_enabled, Linux 5.1+)");
			return -1;
		}
		if (stats_on() < 0)
			return -1;
	}
	stats_off();
	if (oh.already_on)
		oh.mode = LS_SELF_COST_FULL;
	oh.usable = true;
	return 0;
}

/* window_open / window_close - one stretch of counted program runs */
static void window_open(const struct ls_probe *probes, int nprobes, uint64_t now)
{
	if (oh.open)
		return;
	oh.next_ns = now + LS_SELF_COST_PERIOD_NS;	/* a failed switch waits for the next one */
	if (stats_on() < 0)
		return;
	totals(probes, nprobes, &oh.snap_time, &oh.snap_cnt, NULL);
	oh.open = true;
	oh.opened_ns = now;
}

static void window_close(const struct ls_probe *probes, int nprobes, uint64_t now)
{
	uint64_t t, c;

	if (!oh.open)
		return;
	totals(probes, nprobes, &t, &c, NULL);
	stats_off();
	oh.open = false;
	oh.run_time += t - oh.snap_time;
	oh.run_cnt += c - oh.snap_cnt;
	oh.enabled_ns += now - oh.opened_ns;
}

/* ls_overhead_start - the run is about to begin (gates still shut): the first window opens */
void ls_overhead_start(const struct ls_probe *probes, int nprobes, uint64_t now)
{
	if (oh.usable)
		window_open(probes, nprobes, now);
}

/*
 * ls_overhead_tick - open or close a window that is due; returns the
 * nanoseconds until the next one is (UINT64_MAX: none)
 */
uint64_t ls_overhead_tick(const struct ls_probe *probes, int nprobes, uint64_t now)
{
	uint64_t due;

	if (!oh.usable || oh.mode != LS_SELF_COST_SAMPLED)
		return UINT64_MAX;
	if (oh.open && now >= oh.opened_ns + LS_SELF_COST_WINDOW_NS) {
		window_close(probes, nprobes, now);
		oh.switches++;
	} else if (!oh.open && now >= oh.next_ns) {
		window_open(probes, nprobes, now);
		oh.switches += oh.open;	/* a failed switch waits for the next window */
	}
	due = oh.open ? oh.opened_ns + LS_SELF_COST_WINDOW_NS : oh.next_ns;
	return due > now ? due - now : 0;
}

/* ls_overhead_stop - the run ends (gates closed): the open window closes */
void ls_overhead_stop(const struct ls_probe *probes, int nprobes, uint64_t now)
{
	if (oh.usable)
		window_close(probes, nprobes, now);
}

/* ls_overhead_disable - put the statistics switch back as it was */
void ls_overhead_disable(void)
{
	if (oh.open)
		stats_off();
	oh.open = false;
}

/* ls_overhead_collect - the programs' cost over the run, scaled from the windows */
void ls_overhead_collect(const struct ls_probe *probes, int nprobes, double duration_s, int ncpus,
    struct ls_overhead *out)
{
	uint64_t t, c;
	double run_ns = duration_s * 1e9, scale;

	memset(out, 0, sizeof(*out));
	out->sampled = oh.mode == LS_SELF_COST_SAMPLED;
	out->switches = oh.switches;
	if (!oh.usable || !oh.enabled_ns) {
		out->why_not = ls_xstrdup(oh.why_not[0] ? oh.why_not : "statistics were not enabled");
		return;
	}
	totals(probes, nprobes, &t, &c, &out->nprogs);
	out->available = true;
	out->fraction = oh.mode == LS_SELF_COST_SAMPLED && run_ns > 0 && oh.enabled_ns < run_ns ?
	    oh.enabled_ns / run_ns : 1.0;
	scale = 1.0 / out->fraction;
	out->run_time_ns = (uint64_t)(oh.run_time * scale + 0.5);
	out->run_cnt = (uint64_t)(oh.run_cnt * scale + 0.5);
	out->mean_ns = oh.run_cnt ? (double)oh.run_time / oh.run_cnt : 0;
	if (ncpus > 0)
		out->share = oh.run_time / ((double)oh.enabled_ns * ncpus);
}
