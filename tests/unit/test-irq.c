// SPDX-License-Identifier: GPL-2.0-only
/* test-irq.c - the IRQ affinity judgement and its command, on synthetic hosts */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "latencyscope.h"
#include "tap.h"

static struct ls_cpuset set(const char *list)
{
	struct ls_cpuset s;
	char err[128];

	if (ls_cpulist_parse(list, &s, true, err, sizeof(err)) < 0)
		abort();
	return s;
}

static void judge(int irq, const char *aff, const char *mon, const char *online, int managed,
    bool balance, struct ls_irq_affinity *out)
{
	struct ls_cpuset a = set(aff), m = set(mon), o = set(online);

	ls_irq_affinity_judge(irq, &a, &m, &o, managed, balance, out);
}

int main(void)
{
	struct ls_irq_affinity r;

	judge(142, "0-7", "4-7", "0-7", 0, false, &r);
	ok(r.violation, "affinity 0-7 includes monitored 4-7");
	is_str(r.recommendation, "echo 0-3 > /proc/irq/142/smp_affinity_list",
	    "the fix moves IRQ 142 to the housekeeping CPUs 0-3");
	free(r.recommendation);

	judge(142, "0-3", "4-7", "0-7", 0, false, &r);
	ok(!r.violation && !r.recommendation, "affinity 0-3 stays off monitored 4-7: nothing to do");

	judge(9, "5", "1,5,9-11", "0-15", 0, false, &r);
	ok(r.violation, "a single-CPU affinity on a monitored CPU");
	is_str(r.recommendation, "echo 0,2-4,6-8,12-15 > /proc/irq/9/smp_affinity_list",
	    "housekeeping CPUs of a scattered monitored list, as ranges");
	free(r.recommendation);

	judge(30, "0-3", "2-3", "0-1,3", 0, false, &r);
	is_str(r.recommendation, "echo 0-1 > /proc/irq/30/smp_affinity_list",
	    "offline CPUs are never housekeeping");
	free(r.recommendation);

	judge(77, "0-7", "4-7", "0-7", 1, false, &r);
	ok(r.violation && strstr(r.recommendation, "kernel-managed") &&
	    strstr(r.recommendation, "isolcpus=managed_irq,domain,4-7") &&
	    !strstr(r.recommendation, "echo"), "a managed IRQ gets the boot parameter, not an echo");
	free(r.recommendation);

	judge(77, "0-7", "4-7", "0-7", -1, false, &r);
	ok(strstr(r.recommendation, "echo 0-3 > /proc/irq/77/smp_affinity_list") &&
	    strstr(r.recommendation, "I/O error"), "unknown management: the echo, and what a failure means");
	free(r.recommendation);

	judge(142, "0-7", "4-7", "0-7", 0, true, &r);
	ok(strstr(r.recommendation, "echo 0-3 > /proc/irq/142/smp_affinity_list") &&
	    strstr(r.recommendation, "IRQBALANCE_BANNED_CPULIST=4-7"),
	    "with irqbalance running, say how to keep it from undoing the change");
	free(r.recommendation);

	judge(5, "0-1", "0-1", "0-1", 0, false, &r);
	ok(r.violation && strstr(r.recommendation, "nowhere else"),
	    "every CPU monitored: no command that cannot work");
	free(r.recommendation);
	return done_testing();
}
