// SPDX-License-Identifier: GPL-2.0-only
/*
 * sleeper.c - `sleeper CPU PERIOD_US COUNT [FIFO]`: pinned to CPU, (wait
 * until someone opens FIFO for writing, then) sleep PERIOD_US COUNT times and measure each oversleep (actual - requested) with
 * clock_gettime. At exit it prints its own view, the oracle the kernel
 * tests compare latencyscope against:
 *	wakeups=N min_ns=.. max_ns=.. mean_ns=..
 * Every runqueue latency of this task is part of one of its oversleeps.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t period, count, min = UINT64_MAX, max = 0, sum = 0;
	cpu_set_t set;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: sleeper CPU PERIOD_US COUNT [FIFO]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("sleeper: sched_setaffinity");
		return 1;
	}
	if (argc == 5) {
		char c;
		int fd = open(argv[4], O_RDONLY);	/* blocks until a writer opens it */

		if (fd < 0 || read(fd, &c, 1) < 0) {
			perror("sleeper: fifo");
			return 1;
		}
		close(fd);
	}
	period = strtoull(argv[2], NULL, 10) * 1000;
	count = strtoull(argv[3], NULL, 10);
	for (uint64_t i = 0; i < count; i++) {
		struct timespec req = { .tv_sec = period / 1000000000ULL, .tv_nsec = period % 1000000000ULL };
		uint64_t t0 = now_ns(), over;

		nanosleep(&req, NULL);
		over = now_ns() - t0 - period;
		if (over < min)
			min = over;
		if (over > max)
			max = over;
		sum += over;
	}
	printf("wakeups=%llu min_ns=%llu max_ns=%llu mean_ns=%llu\n", (unsigned long long)count,
	    (unsigned long long)min, (unsigned long long)max,
	    (unsigned long long)(count ? sum / count : 0));
	return 0;
}
