// SPDX-License-Identifier: GPL-2.0-only
/*
 * timer.c - `timer CPU PERIOD_US COUNT`: pinned to CPU, a periodic timerfd
 * of PERIOD_US read until it has expired COUNT times. Each expiry is the
 * kernel's timerfd_tmrproc hrtimer callback; a timerfd's timer is armed
 * again by the read that consumes it (a late read takes several
 * expirations at once), so every read follows one callback. At exit it
 * prints its own counts, the oracle the noise tests compare with:
 *	expirations=N reads=N elapsed_ns=..
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t period, count, got = 0, reads = 0, t0;
	struct itimerspec its = { 0 };
	cpu_set_t set;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: timer CPU PERIOD_US COUNT\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("timer: sched_setaffinity");
		return 1;
	}
	period = strtoull(argv[2], NULL, 10);
	count = strtoull(argv[3], NULL, 10);
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0 || !period) {
		perror("timer: timerfd_create");
		return 1;
	}
	its.it_value.tv_sec = its.it_interval.tv_sec = period / 1000000;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = (period % 1000000) * 1000;
	t0 = now_ns();
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		perror("timer: timerfd_settime");
		return 1;
	}
	while (got < count) {
		uint64_t n;

		if (read(fd, &n, sizeof(n)) != sizeof(n)) {
			perror("timer: read");
			return 1;
		}
		got += n;
		reads++;
	}
	printf("expirations=%llu reads=%llu elapsed_ns=%llu\n", (unsigned long long)got,
	    (unsigned long long)reads, (unsigned long long)(now_ns() - t0));
	return 0;
}
