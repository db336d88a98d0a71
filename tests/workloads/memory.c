// SPDX-License-Identifier: GPL-2.0-only
/*
 * memory.c - page faults and TLB shootdowns of a known size:
 *
 *	memory touch PAGES	map PAGES fresh anonymous pages and write each once
 *	memory kernel-touch PAGES REJECTED
 *				map PAGES fresh pages and fill them with one
 *				read() of /dev/zero: the kernel faults each in
 *				on the process's behalf; then REJECTED reads
 *				into an inaccessible page, each a trap the
 *				kernel answers with EFAULT (not in minflt)
 *	memory majors FILE	drop FILE from the page cache, map it and read
 *				every page (each miss is a major fault)
 *	memory churn PAGES ROUNDS
 *				map, write and unmap PAGES fresh pages ROUNDS
 *				times; prints elapsed_ns (clock_gettime) and
 *				cpu_ns (its user + system time, getrusage)
 *	memory shootdown SECONDS CPU_A CPU_B
 *				a thread on CPU_B keeps the address space live
 *				there while the main thread, on CPU_A, maps,
 *				touches and unmaps memory: every unmap must flush
 *				CPU_B's TLB by IPI
 *
 * Each prints "pid=P minflt=M majflt=J" (its own /proc/self/stat counters,
 * read just before exiting) and the mode's own count.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("memory: sched_setaffinity");
		exit(1);
	}
}

/* report - this process's fault counters from /proc/self/stat (fields 10 and 12) */
static void report(void)
{
	char buf[1024], *p;
	unsigned long minflt = 0, majflt = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f || !fgets(buf, sizeof(buf), f)) {
		perror("memory: /proc/self/stat");
		exit(1);
	}
	fclose(f);
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %lu", &minflt, &majflt) != 2) {
		fprintf(stderr, "memory: cannot parse /proc/self/stat\n");
		exit(1);
	}
	printf("pid=%d minflt=%lu majflt=%lu\n", (int)getpid(), minflt, majflt);
}

static int touch(long pages)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("memory: mmap");
		return 1;
	}
	madvise(m, pages * psz, MADV_NOHUGEPAGE);	/* one fault per page */
	for (long i = 0; i < pages; i++)
		m[i * psz] = 1;
	printf("touched=%ld\n", pages);
	report();
	return 0;
}

static int kernel_touch(long pages, long rejected)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/dev/zero", O_RDONLY);
	long n = 0;

	if (m == MAP_FAILED || none == MAP_FAILED || fd < 0) {
		perror("memory: kernel-touch");
		return 1;
	}
	madvise(m, pages * psz, MADV_NOHUGEPAGE);
	if (read(fd, m, pages * psz) != pages * psz) {
		perror("memory: read /dev/zero");
		return 1;
	}
	for (long i = 0; i < rejected; i++)
		n += read(fd, none, 1) < 0;
	printf("touched=%ld rejected=%ld\n", pages, n);
	report();
	return 0;
}

static int churn(long pages, long rounds)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct timespec t0, t1;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long r = 0; r < rounds; r++) {
		char *m = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);

		if (m == MAP_FAILED) {
			perror("memory: mmap");
			return 1;
		}
		madvise(m, pages * psz, MADV_NOHUGEPAGE);
		for (long i = 0; i < pages; i++)
			m[i * psz] = 1;
		munmap(m, pages * psz);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	printf("faults=%ld elapsed_ns=%lld cpu_ns=%lld\n", pages * rounds,
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
	    (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	    (long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
	return 0;
}

static int majors(const char *path)
{
	long psz = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *m;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror("memory: open");
		return 1;
	}
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror("memory: mmap");
		return 1;
	}
	madvise(m, st.st_size, MADV_RANDOM);	/* no read-ahead: a miss per page */
	for (off_t o = 0; o < st.st_size; o += psz)
		(void)*(volatile const char *)&m[o];	/* a read the compiler keeps */
	printf("read=%lld\n", (long long)(st.st_size / psz));
	report();
	return 0;
}

static atomic_int stop;

static void *keep_live(void *arg)
{
	volatile char *page = arg;

	pin(*(int *)((char *)arg + 64));
	while (!atomic_load(&stop))
		page[0]++;
	return NULL;
}

static int shootdown(double secs, int cpu_a, int cpu_b)
{
	long psz = sysconf(_SC_PAGESIZE), unmaps = 0;
	char *shared = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec t0, t;
	pthread_t th;

	if (shared == MAP_FAILED) {
		perror("memory: mmap");
		return 1;
	}
	*(int *)(shared + 64) = cpu_b;
	pin(cpu_a);
	pthread_create(&th, NULL, keep_live, shared);
	usleep(20000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		char *m = mmap(NULL, 16 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		for (int i = 0; m != MAP_FAILED && i < 16; i++)
			m[i * psz] = 1;
		if (m != MAP_FAILED && munmap(m, 16 * psz) == 0)
			unmaps++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	printf("unmaps=%ld\n", unmaps);
	report();
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "touch"))
		return touch(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "kernel-touch"))
		return kernel_touch(atol(argv[2]), atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "churn"))
		return churn(atol(argv[2]), atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "majors"))
		return majors(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "shootdown"))
		return shootdown(atof(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: memory touch PAGES | kernel-touch PAGES REJECTED | churn PAGES ROUNDS | "
	    "majors FILE | "
	    "shootdown SECONDS CPU_A CPU_B\n");
	return 2;
}
