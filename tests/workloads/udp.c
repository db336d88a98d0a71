// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp.c - network load over loopback, so NET_RX/NET_TX softirqs happen:
 *
 *	udp flood SECONDS CPU	pinned to CPU, send datagrams to itself and
 *				drain them for SECONDS; prints "sent=N"
 *	udp pingpong ROUNDS	two processes bounce a datagram ROUNDS times;
 *				prints the elapsed nanoseconds (clock_gettime)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* bound_socket - a UDP socket on 127.0.0.1 with a kernel-chosen port */
static int bound_socket(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
		perror("udp: socket");
		exit(1);
	}
	return fd;
}

static int flood(double secs, int cpu)
{
	struct sockaddr_in addr;
	char buf[64] = "x";
	uint64_t end, sent = 0;
	cpu_set_t set;
	int fd = bound_socket(&addr);

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("udp: sched_setaffinity");
		return 1;
	}
	end = now_ns() + (uint64_t)(secs * 1e9);
	while (now_ns() < end) {
		for (int i = 0; i < 32; i++)
			if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&addr, sizeof(addr)) > 0)
				sent++;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
	printf("sent=%llu\n", (unsigned long long)sent);
	return 0;
}

static int pingpong(long rounds)
{
	struct sockaddr_in a, b;
	int fa = bound_socket(&a), fb = bound_socket(&b);
	char c = 0;
	uint64_t t0 = now_ns();
	pid_t child = fork();

	if (child < 0) {
		perror("udp: fork");
		return 1;
	}
	if (child == 0) {
		for (long i = 0; i < rounds; i++)
			if (recv(fb, &c, 1, 0) != 1 ||
			    sendto(fb, &c, 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
				_exit(1);
		_exit(0);
	}
	for (long i = 0; i < rounds; i++)
		if (sendto(fa, &c, 1, 0, (struct sockaddr *)&b, sizeof(b)) != 1 || recv(fa, &c, 1, 0) != 1)
			return 1;
	waitpid(child, NULL, 0);
	printf("%llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "flood"))
		return flood(atof(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "pingpong") && atol(argv[2]) > 0)
		return pingpong(atol(argv[2]));
	fprintf(stderr, "usage: udp flood SECONDS CPU | udp pingpong ROUNDS\n");
	return 2;
}
