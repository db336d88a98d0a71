// SPDX-License-Identifier: GPL-2.0-only
/*
 * overhead.c - the probes' own cost, from the kernel's BPF run-time
 * statistics. Statistics are switched on with BPF_ENABLE_STATS, whose file
 * descriptor switches them off again when closed, even if we crash; older
 * kernels get kernel.bpf_stats_enabled written and restored.
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

static int stats_fd = -1;
static int sysctl_old = -1;
static char why_not[160];

static int write_sysctl(int v)
{
	FILE *f = fopen(STATS_SYSCTL, "we");

	if (!f)
		return -1;
	fprintf(f, "%d\n", v);
	return fclose(f);
}

/* ls_overhead_enable - start counting BPF run time; -1 when the kernel cannot */
int ls_overhead_enable(void)
{
	uint64_t old;

#ifdef HAVE_BPF_ENABLE_STATS
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	stats_fd = (int)syscall(SYS_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (stats_fd >= 0)
		return 0;
#endif
	if (ls_read_u64_file(STATS_SYSCTL, &old) < 0) {
		snprintf(why_not, sizeof(why_not), "this kernel has no BPF run-time statistics "
		    "(kernel.bpf_stats_enabled, Linux 5.1+)");
		return -1;
	}
	if (old == 0 && write_sysctl(1) < 0) {
		snprintf(why_not, sizeof(why_not), "cannot enable kernel.bpf_stats_enabled: %s",
		    strerror(errno));
		return -1;
	}
	sysctl_old = (int)old;
	return 0;
}

/* ls_overhead_disable - put the statistics switch back as it was */
void ls_overhead_disable(void)
{
	if (stats_fd >= 0) {
		close(stats_fd);
		stats_fd = -1;
	}
	if (sysctl_old == 0)
		write_sysctl(0);
	sysctl_old = -1;
}

/* ls_overhead_collect - sum run time and run count over every attached program */
void ls_overhead_collect(const struct ls_probe *probes, int nprobes, double duration_s, int ncpus,
    struct ls_overhead *out)
{
	memset(out, 0, sizeof(*out));
	if (stats_fd < 0 && sysctl_old < 0) {
		out->why_not = strdup(why_not[0] ? why_not : "statistics were not enabled");
		return;
	}
	for (int i = 0; i < nprobes; i++) {
		for (int j = 0; j < probes[i].nprogs; j++) {
			struct bpf_prog_info info;
			uint32_t len = sizeof(info);

			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info(probes[i].progs[j].prog_fd, &info, &len) < 0)
				continue;
			out->run_time_ns += info.run_time_ns;
			out->run_cnt += info.run_cnt;
			out->nprogs++;
		}
	}
	out->available = true;
	out->mean_ns = out->run_cnt ? (double)out->run_time_ns / out->run_cnt : 0;
	if (duration_s > 0 && ncpus > 0)
		out->share = out->run_time_ns / (duration_s * 1e9 * ncpus);
}
