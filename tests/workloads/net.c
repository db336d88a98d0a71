// SPDX-License-Identifier: GPL-2.0-only
/*
 * net.c - request/response traffic of a known size between two addresses:
 *
 *	net udp-echo ADDR PORT N	answer N datagrams, then exit
 *	net udp-ping ADDR PORT N	send N datagrams, each after the answer
 *					to the last; prints elapsed_ns
 *	net tcp-echo ADDR PORT N	accept one connection, echo N messages
 *	net tcp-ping ADDR PORT N	connect, send N messages, each after
 *					the answer to the last; prints elapsed_ns
 *	net udp-slow ADDR PORT SECONDS	a receiver with a 4 KiB SO_RCVBUF that
 *					reads one datagram every 10 ms
 *	net udp-blast ADDR PORT N	send N datagrams as fast as it can
 *
 * Every mode prints "pid=P tid=T" first; receivers print "received=N" last.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in addr_of(const char *ip, int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "net: bad address %s\n", ip);
		exit(2);
	}
	return a;
}

static int sock(int type, const struct sockaddr_in *bind_to)
{
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		die("net: socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_to && bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to)) < 0)
		die("net: bind");
	return fd;
}

/* full - read or write exactly MSG bytes of a stream */
static void full(int fd, char *buf, int rd)
{
	for (int done = 0; done < MSG;) {
		ssize_t n = rd ? read(fd, buf + done, MSG - done) : write(fd, buf + done, MSG - done);

		if (n <= 0)
			die(rd ? "net: read" : "net: write");
		done += n;
	}
}

int main(int argc, char **argv)
{
	char buf[MSG] = "ping";
	struct sockaddr_in a, from;
	socklen_t fl = sizeof(from);
	long n, got = 0;
	uint64_t t0;
	int fd, c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 5) {
		fprintf(stderr, "usage: net udp-echo|udp-ping|tcp-echo|tcp-ping|udp-slow|udp-blast "
		    "ADDR PORT N\n");
		return 2;
	}
	a = addr_of(argv[2], atoi(argv[3]));
	n = atol(argv[4]);
	printf("pid=%d tid=%ld\n", (int)getpid(), (long)syscall(SYS_gettid));
	if (!strcmp(argv[1], "udp-echo")) {
		fd = sock(SOCK_DGRAM, &a);
		printf("ready\n");
		for (; got < n; got++) {
			if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) < 0)
				die("net: recvfrom");
			sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, fl);
		}
	} else if (!strcmp(argv[1], "udp-ping")) {
		fd = sock(SOCK_DGRAM, NULL);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("net: connect");
		t0 = now_ns();
		for (; got < n; got++) {
			if (send(fd, buf, sizeof(buf), 0) < 0 || recv(fd, buf, sizeof(buf), 0) < 0)
				die("net: udp ping");
		}
		printf("elapsed_ns=%llu\n", (unsigned long long)(now_ns() - t0));
	} else if (!strcmp(argv[1], "tcp-echo")) {
		int one = 1;

		fd = sock(SOCK_STREAM, &a);
		if (listen(fd, 1) < 0)
			die("net: listen");
		printf("ready\n");
		c = accept(fd, NULL, NULL);
		if (c < 0)
			die("net: accept");
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (; got < n; got++) {
			full(c, buf, 1);
			full(c, buf, 0);
		}
	} else if (!strcmp(argv[1], "tcp-ping")) {
		int one = 1;

		fd = sock(SOCK_STREAM, NULL);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("net: connect");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		t0 = now_ns();
		for (; got < n; got++) {
			full(fd, buf, 0);
			full(fd, buf, 1);
		}
		printf("elapsed_ns=%llu\n", (unsigned long long)(now_ns() - t0));
	} else if (!strcmp(argv[1], "udp-slow")) {
		int sz = 4096;
		uint64_t end;

		fd = sock(SOCK_DGRAM, &a);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		printf("ready\n");
		end = now_ns() + (uint64_t)n * 1000000000ULL;
		while (now_ns() < end) {
			if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				got++;
			usleep(10000);
		}
	} else if (!strcmp(argv[1], "udp-blast")) {
		fd = sock(SOCK_DGRAM, NULL);
		for (; got < n; got++)
			sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&a, sizeof(a));
		printf("sent=%ld\n", got);
		return 0;
	} else {
		fprintf(stderr, "net: unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("received=%ld\n", got);
	return 0;
}
