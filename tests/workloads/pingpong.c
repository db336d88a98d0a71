// SPDX-License-Identifier: GPL-2.0-only
/*
 * pingpong.c - `pingpong ROUNDS`: two processes bounce a byte over a pair
 * of pipes ROUNDS times (what `perf bench sched pipe` does): two context
 * switches and two wakeups per round, the scheduler's hot path at full
 * rate. Prints the elapsed nanoseconds, measured with clock_gettime.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
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
	int a[2], b[2];
	long rounds;
	uint64_t t0;
	char c = 0;
	pid_t child;

	if (argc != 2 || (rounds = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: pingpong ROUNDS\n");
		return 2;
	}
	if (pipe(a) < 0 || pipe(b) < 0) {
		perror("pingpong: pipe");
		return 1;
	}
	t0 = now_ns();
	child = fork();
	if (child < 0) {
		perror("pingpong: fork");
		return 1;
	}
	if (child == 0) {
		for (long i = 0; i < rounds; i++)
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	for (long i = 0; i < rounds; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			return 1;
	waitpid(child, NULL, 0);
	printf("%llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}
