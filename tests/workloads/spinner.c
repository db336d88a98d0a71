// SPDX-License-Identifier: GPL-2.0-only
/*
 * spinner.c - burn one CPU: `spinner CPU SECONDS` pins itself to CPU and
 * spins until SECONDS have passed (0: until killed). A latency-critical
 * thread's shape, and a competitor's.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs, end;
	volatile unsigned long n = 0;
	cpu_set_t set;

	if (argc != 3) {
		fprintf(stderr, "usage: spinner CPU SECONDS\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("spinner: sched_setaffinity");
		return 1;
	}
	secs = atof(argv[2]);
	end = now() + secs;
	while (secs <= 0 || now() < end)
		n++;
	return 0;
}
