// SPDX-License-Identifier: GPL-2.0-only
/*
 * sync.c - threads that wait, each measuring its own waits with
 * clock_gettime(CLOCK_MONOTONIC):
 *
 *	sync futex ROUNDS CPU	two threads pinned to CPU hand a turn back and
 *				forth through raw futexes; prints the waits that
 *				returned 0 (woken), the EAGAINs, and the p50/p99 of
 *				the woken waits, the time the ping-pong took and
 *				the CPU time it used (user + system, getrusage):
 *				"waits=N eagain=N p50_ns=N p99_ns=N elapsed_ns=N cpu_ns=N"
 *	sync pipe PERIOD_US COUNT	a writer thread writes a byte to a pipe every
 *				PERIOD_US; the reader blocks in read(); prints
 *				"reads=N mean_ns=N"
 *
 *	sync yield COUNT CPU	two threads pinned to CPU each call sched_yield()
 *				COUNT times, so each call hands the CPU to the
 *				other thread while staying runnable; prints
 *				"yields=N switched=N" (switched: the involuntary
 *				context switches getrusage saw: a yield that switches
 *				counts there, the thread still runnable)
 *
 *	sync timer-wake COUNT TIMER_CPU READER_CPU
 *				a thread pinned to READER_CPU blocks in read() on a
 *				timerfd that the main thread, pinned to TIMER_CPU,
 *				arms for 200 us and then spins until the read
 *				returns, COUNT times: each wake-up comes from the
 *				timer interrupt on TIMER_CPU while this process is
 *				the task running there; prints "wakes=N pid=N"
 *
 *	sync timeouts COUNT	calls select, pselect6, poll, ppoll and epoll_wait
 *				COUNT times each with nothing to wait for and a
 *				1 ms timeout (raw syscalls, so each is the syscall
 *				its name says); prints "timeouts=N"
 *
 * The threads exit before the process does. With GO_FIFO=path, the process
 * first waits until someone opens that FIFO for writing.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static _Atomic int turn[2];
static long rounds;
static int cpu;
static uint64_t *waits[2];
static long nwaits[2], neagain[2];

/* pin_to - the calling thread on CPU c only */
static void pin_to(int c)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *player(void *arg)
{
	int me = (int)(intptr_t)arg, other = !me;

	pin_to(cpu);
	for (long r = 0; r < rounds; r++) {
		if (me == 1 || r > 0) {
			while (!atomic_load(&turn[me])) {
				uint64_t t0 = now_ns();
				long rc = syscall(SYS_futex, &turn[me], FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
				uint64_t t1 = now_ns();

				if (rc == 0)
					waits[me][nwaits[me]++] = t1 - t0;
				else if (errno == EAGAIN)
					neagain[me]++;
			}
			atomic_store(&turn[me], 0);
		}
		atomic_store(&turn[other], 1);
		syscall(SYS_futex, &turn[other], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return NULL;
}

static void *yielder(void *arg)
{
	(void)arg;
	pin_to(cpu);
	for (long r = 0; r < rounds; r++)
		syscall(SYS_sched_yield);
	return NULL;
}

static int yield_mode(void)
{
	pthread_t t[2];
	struct rusage ru;

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, yielder, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("yields=%ld switched=%ld\n", 2 * rounds, ru.ru_nivcsw);
	return 0;
}

static int timer_fd, reader_cpu;
static _Atomic long woken;

static void *timer_reader(void *arg)
{
	uint64_t expirations;

	(void)arg;
	pin_to(reader_cpu);
	for (long i = 0; i < rounds; i++) {
		if (read(timer_fd, &expirations, sizeof(expirations)) != sizeof(expirations))
			break;
		atomic_store(&woken, i + 1);
	}
	return NULL;
}

/* timer_wake_mode - a timer on one CPU wakes a reader on another, COUNT times */
static int timer_wake_mode(int timer_cpu)
{
	struct itimerspec in = { .it_value = { .tv_nsec = 200000 } };
	pthread_t t;

	timer_fd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (timer_fd < 0) {
		perror("timerfd_create");
		return 1;
	}
	pin_to(timer_cpu);	/* the timer is armed, and fires, here */
	pthread_create(&t, NULL, timer_reader, NULL);
	for (long i = 0; i < rounds; i++) {
		usleep(1000);	/* the reader is asleep in read() again */
		if (timerfd_settime(timer_fd, 0, &in, NULL) < 0) {
			perror("timerfd_settime");
			return 1;
		}
		while (atomic_load(&woken) <= i)
			;	/* this task runs on TIMER_CPU when the timer fires */
	}
	pthread_join(t, NULL);
	printf("wakes=%ld pid=%d\n", atomic_load(&woken), (int)getpid());
	return 0;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int futex_mode(void)
{
	pthread_t t[2];
	uint64_t *all, t0 = now_ns();
	struct rusage ru;
	long n;

	for (int i = 0; i < 2; i++) {
		waits[i] = calloc(rounds * 4 + 16, sizeof(uint64_t));
		pthread_create(&t[i], NULL, player, (void *)(intptr_t)i);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	t0 = now_ns() - t0;
	getrusage(RUSAGE_SELF, &ru);
	n = nwaits[0] + nwaits[1];
	all = malloc((n + 1) * sizeof(*all));
	memcpy(all, waits[0], nwaits[0] * sizeof(*all));
	memcpy(all + nwaits[0], waits[1], nwaits[1] * sizeof(*all));
	qsort(all, n, sizeof(*all), cmp);
	printf("waits=%ld eagain=%ld p50_ns=%llu p99_ns=%llu elapsed_ns=%llu cpu_ns=%llu\n", n,
	    neagain[0] + neagain[1],
	    n ? (unsigned long long)all[(n * 50 + 99) / 100 - 1] : 0ULL,
	    n ? (unsigned long long)all[(n * 99 + 99) / 100 - 1] : 0ULL, (unsigned long long)t0,
	    (unsigned long long)((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL));
	return 0;
}

static int pipefd[2];
static long period_us, count;

static void *writer(void *arg)
{
	struct timespec ts = { 0, 0 };

	ts.tv_nsec = period_us * 1000;
	for (long i = 0; i < count; i++) {
		nanosleep(&ts, NULL);
		if (write(pipefd[1], "x", 1) != 1)
			break;
	}
	return NULL;
}

static void *reader(void *arg)
{
	uint64_t sum = 0;
	long n = 0;
	char c;

	for (long i = 0; i < count; i++) {
		uint64_t t0 = now_ns();

		if (read(pipefd[0], &c, 1) != 1)
			break;
		sum += now_ns() - t0;
		n++;
	}
	printf("reads=%ld mean_ns=%llu\n", n, (unsigned long long)(n ? sum / n : 0));
	return NULL;
}

static int pipe_mode(void)
{
	pthread_t w, r;

	if (pipe(pipefd) < 0)
		return 1;
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	return 0;
}

static int timeouts_mode(long n)
{
	struct epoll_event ev;
	int ep = epoll_create1(0);
	long done = 0;

	if (ep < 0)
		return 1;
	for (long i = 0; i < n; i++) {
		/* select and pselect6 write the time left (none) back: one each */
		struct timeval tv = { 0, 1000 };
		struct timespec ts = { 0, 1000000 }, ts2 = { 0, 1000000 };

		done += syscall(SYS_select, 0, NULL, NULL, NULL, &tv) == 0;
		done += syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, NULL) == 0;
		done += syscall(SYS_poll, NULL, 0, 1) == 0;
		done += syscall(SYS_ppoll, NULL, 0, &ts2, NULL, 0) == 0;
		done += syscall(SYS_epoll_wait, ep, &ev, 1, 1) == 0;
	}
	printf("timeouts=%ld\n", done);
	return 0;
}

int main(int argc, char **argv)
{
	const char *go = getenv("GO_FIFO");

	if (go) {
		FILE *f = fopen(go, "r");	/* blocks until a writer opens it */

		if (!f) {
			perror("sync: GO_FIFO");
			return 1;
		}
		fgetc(f);
		fclose(f);
	}
	if (argc == 4 && !strcmp(argv[1], "futex")) {
		rounds = atol(argv[2]);
		cpu = atoi(argv[3]);
		return futex_mode();
	}
	if (argc == 4 && !strcmp(argv[1], "pipe")) {
		period_us = atol(argv[2]);
		count = atol(argv[3]);
		return pipe_mode();
	}
	if (argc == 4 && !strcmp(argv[1], "yield")) {
		rounds = atol(argv[2]);
		cpu = atoi(argv[3]);
		return yield_mode();
	}
	if (argc == 5 && !strcmp(argv[1], "timer-wake")) {
		rounds = atol(argv[2]);
		reader_cpu = atoi(argv[4]);
		return timer_wake_mode(atoi(argv[3]));
	}
	if (argc == 3 && !strcmp(argv[1], "timeouts"))
		return timeouts_mode(atol(argv[2]));
	fprintf(stderr, "usage: sync futex ROUNDS CPU | sync pipe PERIOD_US COUNT | sync yield COUNT CPU | "
	    "sync timer-wake COUNT TIMER_CPU READER_CPU | sync timeouts COUNT\n");
	return 2;
}
