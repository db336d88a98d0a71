// SPDX-License-Identifier: GPL-2.0-only
/*
 * wallclock.c - a thread with a known wall-clock shape, built with frame
 * pointers: in each period it spins in spin_here() for SPIN_PCT % and sleeps
 * in sleep_here() (nanosleep) for the rest. Periods vary at random, so a
 * sampling profiler's clock cannot lock onto their phase: in each cycle of
 * six, four of 3-5 ms sleep through nap_a() and two of 8-10 ms through
 * nap_b(), the same sleep_here() and system call reached from two callers
 * (a profiler that takes a thread's stack for the one it had last time
 * gets their split wrong).
 *
 *	wallclock SECONDS SPIN_PCT	prints "pid=P tid=T" first and, at the
 *					end, the time it measured in each part;
 *					on SIGUSR1 "naps a=NS b=NS", the time
 *					slept so far through each caller
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double secs;
static int spin_pct;
static uint64_t spun_ns, slept_ns, nap_ns[2];
static volatile sig_atomic_t report_naps;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__attribute__((noinline)) void spin_here(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		__asm__ __volatile__("" ::: "memory");
}

/*
 * sleep_here - nanosleep as a system call made right here: libc is built
 * without frame pointers, and a frame-pointer unwind from inside its
 * wrapper would skip this function
 */
__attribute__((noinline)) void sleep_here(uint64_t ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ns };
#if defined(__x86_64__)
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret) : "0"((long)SYS_nanosleep), "D"(&ts), "S"(0L)
	    : "rcx", "r11", "memory");
	(void)ret;
#else
	nanosleep(&ts, NULL);
#endif
}

/* nap_a, nap_b - two callers of sleep_here; the barrier keeps each a frame of its own */
__attribute__((noinline)) void nap_a(uint64_t ns)
{
	sleep_here(ns);
	__asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) void nap_b(uint64_t ns)
{
	sleep_here(ns);
	__asm__ __volatile__("" ::: "memory");
}

static void on_usr1(int sig)
{
	(void)sig;
	report_naps = 1;
}

static void *worker(void *arg)
{
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	unsigned seed = 12345;

	(void)arg;
	printf("pid=%d tid=%ld\n", (int)getpid(), (long)syscall(SYS_gettid));
	for (unsigned i = 0; now_ns() < end; i++) {
		int b = i % 6 >= 4;
		uint64_t t0 = now_ns(), t1, t2;
		uint64_t period = (b ? 8000000ULL : 3000000ULL) + rand_r(&seed) % 2000000ULL;
		/* sleep the rest of the period, minus a typical oversleep */
		uint64_t rest = period * (100 - spin_pct) / 100 - 60000;

		spin_here(period * spin_pct / 100);
		t1 = now_ns();
		if (b)
			nap_b(rest);
		else
			nap_a(rest);
		t2 = now_ns();
		spun_ns += t1 - t0;
		slept_ns += t2 - t1;
		nap_ns[b] += t2 - t1;
		if (report_naps) {
			report_naps = 0;
			printf("naps a=%llu b=%llu\n", (unsigned long long)nap_ns[0],
			    (unsigned long long)nap_ns[1]);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (argc != 3) {
		fprintf(stderr, "usage: wallclock SECONDS SPIN_PCT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	secs = atof(argv[1]);
	spin_pct = atoi(argv[2]);
	pthread_create(&th, NULL, worker, NULL);
	pthread_join(th, NULL);
	printf("spun_ns=%llu slept_ns=%llu\n", (unsigned long long)spun_ns, (unsigned long long)slept_ns);
	return 0;
}
