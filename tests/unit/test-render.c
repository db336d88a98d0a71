// SPDX-License-Identifier: GPL-2.0-only
/*
 * test-render.c - the box and JSON renderers against golden files, and the
 * JSON shape CI gates rely on. LS_UPDATE_GOLDEN=1 rewrites the golden files.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "latencyscope.h"
#include "tap.h"

/* fixture - a report as a real run would leave it, with fixed values */
static void fixture(struct ls_report *r)
{
	static const struct ls_column tcols[] = {
		{ "tid", "TID", 7 }, { "pid", "PID", 7 }, { "comm", "COMM", 16 },
		{ "involuntary_switches", "INVOL", 7 },
	};
	static const struct ls_column wcols[] = {
		{ "time", NULL, 0 }, { NULL, "TIME", 16 }, { "latency_ns", "LATENCY", 9 },
		{ "victim.comm", "VICTIM", 15 }, { "victim.pid", NULL, 0 },
	};
	struct ls_hist *h = calloc(1, sizeof(*h));
	struct ls_summary sum;
	struct ls_section *s;
	struct ls_table *t;
	struct ls_value *row;

	memset(r, 0, sizeof(*r));
	r->tool_version = "0.0-test";
	r->kernel = strdup("6.18.0-test");
	r->nr_cpus = 8;
	r->isolated_cpus = strdup("4-7");
	r->nohz_full_cpus = strdup("");
	r->started_at = strdup("2026-01-02T03:04:05.000000Z");
	r->duration_s = 5;
	r->ended_by = strdup("SIGINT");
	r->cpus = strdup("4-7");
	r->cpus_isolated = true;
	r->npids = 1;
	r->pids = malloc(sizeof(int));
	r->pids[0] = 4242;

	s = ls_report_add_section(r, "isolation", "ISOLATION VERIFIER");
	ls_section_metric(s, "context_switches", "Context switches", ls_v_uint(1234567, LS_F_COUNT));
	ls_section_metric(s, "hidden", NULL, ls_v_uint(1, LS_F_COUNT));
	for (int i = 1; i <= 1000; i++)
		ls_hist_add(h, i * 1000);
	ls_hist_summarize(h, 0, &sum);
	ls_section_histo(s, "runqueue_latency_ns", "Runqueue latency", &sum, h);
	ls_section_metric(s, "p99_999_runqueue_ns", NULL,
	    sum.pct_valid[5] ? ls_v_uint((uint64_t)sum.pct[5], LS_F_NS) : ls_v_null());
	t = ls_section_table(s, "targets", "Monitored tasks", 4, tcols);
	row = ls_table_row(t);
	row[0] = ls_v_uint(4242, LS_F_PLAIN);
	row[1] = ls_v_uint(4242, LS_F_PLAIN);
	row[2] = ls_v_str("engine");
	row[3] = ls_v_uint(17, LS_F_COUNT);
	row = ls_table_row(t);	/* a name wider than its column */
	row[0] = ls_v_uint(4243, LS_F_PLAIN);
	row[1] = ls_v_uint(4242, LS_F_PLAIN);
	row[2] = ls_v_str("md-feed-handler-shard-07");
	row[3] = ls_v_uint(3, LS_F_COUNT);
	t = ls_section_table(s, "worst", "Worst", 5, wcols);
	row = ls_table_row(t);
	row[0] = ls_v_str("2026-01-02T03:04:06.123456Z");
	row[1] = ls_v_str("03:04:06.123456Z");
	row[2] = ls_v_uint(812345, LS_F_NS);
	row[3] = ls_v_str("engine");
	row[4] = ls_v_uint(4242, LS_F_PLAIN);
	ls_section_finding(s, LS_FAIL, "taskset -acp 0-3 999",
	    "engine (tid 4242) was preempted 17 times on CPUs 4-7; top culprit: kworker/4:1, a very "
	    "long message that has to wrap inside the box");
	ls_section_finding(s, LS_PASS, NULL, "no migrations");
	ls_section_note(s, "P99.999 not judged: it needs 100000 samples");
	ls_section_set_verdict(s);

	s = ls_report_add_section(r, "irq", "IRQ STORM DETECTOR");
	s->verdict = LS_NOT_MEASURED;
	ls_section_note(s, "not measured: tracepoint irq:irq_handler_entry does not exist");

	r->overhead.available = true;
	r->overhead.nprogs = 4;
	r->overhead.run_time_ns = 1500000;
	r->overhead.run_cnt = 10000;
	r->overhead.mean_ns = 150;
	r->overhead.share = 0.0001;
	r->overhead.sampled = true;	/* statistics on 50 ms of every second */
	r->overhead.fraction = 0.05;
	r->overhead.switches = 20;
	r->lost_events = 3;
	r->nlost_cpus = 4;
	r->lost_per_cpu = calloc(4, sizeof(uint64_t));
	r->lost_per_cpu[1] = 3;
	ls_report_summarize(r);
	free(h);
}

static char *render(int kind, const struct ls_report *r)
{
	struct ls_render_opts o = { .color = false, .ascii = kind == 1, .width = kind == 3 ? 120 : 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (kind == 2)
		ls_render_json(f, r);
	else
		ls_render_box(f, r, &o);
	fclose(f);
	return buf;
}

static void golden(const char *name, const char *got)
{
	char path[4096];
	const char *top = getenv("top_srcdir");
	char *want;

	snprintf(path, sizeof(path), "%s/tests/unit/golden/%s", top ? top : ".", name);
	if (getenv("LS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		fputs(got, f);
		fclose(f);
	}
	want = ls_read_file(path, NULL);
	ok(want && strcmp(want, got) == 0, "%s matches the golden file", name);
	if (want && strcmp(want, got))
		printf("#   diff: LS_UPDATE_GOLDEN=1 make check, then git diff %s\n", path);
	free(want);
}

static void test_box_shape(const char *text, bool ascii, int width)
{
	int bad = 0, lines = 0;
	const char *p = text;

	/* every boxed line is exactly width columns */
	while (*p) {
		const char *e = strchr(p, '\n');
		int w = 0;

		if (!e)
			break;
		if ((ascii && (*p == '|' || *p == '+')) || (!ascii && !strncmp(p, "\u2551", 3))) {
			for (const char *q = p; q < e; q++)
				w += ((unsigned char)*q & 0xc0) != 0x80;
			bad += w != width;
			lines++;
		}
		p = e + 1;
	}
	ok(lines > 10 && bad == 0, "%s: all %d box lines are %d columns wide", ascii ? "ascii" : "utf-8",
	    lines, width);
}

static void test_json_shape(const char *text)
{
	json_error_t e;
	json_t *root = json_loads(text, 0, &e), *iso;

	ok(root != NULL, "the JSON parses (%s)", root ? "" : e.text);
	if (!root)
		return;
	is_int(json_integer_value(json_object_get(root, "schema_version")), 1, "schema_version 1");
	ok(json_is_string(json_object_get(json_object_get(root, "tool"), "version")), "tool.version");
	ok(json_is_array(json_object_get(json_object_get(root, "host"), "isolated_cpus")) &&
	    json_array_size(json_object_get(json_object_get(root, "host"), "isolated_cpus")) == 4,
	    "host.isolated_cpus is [4,5,6,7]");
	is_str(json_string_value(json_object_get(json_object_get(root, "run"), "ended_by")), "SIGINT",
	    "run.ended_by");
	iso = json_object_get(root, "isolation");
	is_str(json_string_value(json_object_get(iso, "verdict")), "fail", "isolation.verdict");
	ok(json_is_null(json_object_get(iso, "p99_999_runqueue_ns")),
	    "an unsupported P99.999 is null, never a number");
	ok(json_is_null(json_object_get(json_object_get(iso, "runqueue_latency_ns"), "p99_99")),
	    "P99.99 with 1000 samples is null");
	ok(json_is_integer(json_object_get(json_object_get(iso, "runqueue_latency_ns"), "p99")),
	    "P99 with 1000 samples is a number");
	ok(json_integer_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(iso, "worst"), 0), "victim"), "pid")) == 4242,
	    "dotted column keys nest: worst[0].victim.pid");
	ok(json_object_get(json_array_get(json_object_get(iso, "worst"), 0), "TIME") == NULL,
	    "text-only columns stay out of JSON");
	is_int(json_integer_value(json_object_get(iso, "hidden")), 1, "JSON-only metrics are present");
	is_str(json_string_value(json_object_get(json_object_get(root, "irq"), "verdict")),
	    "not_measured", "a module that could not run is not_measured");
	is_int(json_integer_value(json_object_get(json_object_get(root, "summary"), "exit_code")), 2,
	    "summary.exit_code");
	is_int(json_integer_value(json_object_get(root, "lost_events")), 3, "lost_events");
	json_decref(root);
}

static void test_exit_codes(void)
{
	struct ls_report r = { 0 };
	struct ls_section *s = ls_report_add_section(&r, "a", "A");

	ls_section_finding(s, LS_WARN, NULL, "w");
	ls_section_set_verdict(s);
	ls_report_summarize(&r);
	is_int(r.exit_code, 1, "a warning exits 1");
	ls_section_finding(s, LS_FAIL, NULL, "f");
	ls_section_set_verdict(s);
	ls_report_summarize(&r);
	is_int(r.exit_code, 2, "a violation exits 2");
	ls_report_free(&r);
	s = ls_report_add_section(&r, "a", "A");
	s->verdict = LS_NOT_MEASURED;
	ls_report_summarize(&r);
	is_int(r.exit_code, 3, "nothing measured exits 3");
	ls_report_free(&r);
	s = ls_report_add_section(&r, "a", "A");
	ls_report_summarize(&r);
	is_int(r.exit_code, 0, "a clean run exits 0");
	ls_report_free(&r);
}

/*
 * test_keep - an interval subtracts the kept copy of the run so far (off
 * the heap, report-keep.c) exactly as it subtracts the report itself
 */
static void test_keep(struct ls_report *now)
{
	struct ls_opts o = { 0 };
	struct ls_run run = { .opts = &o };
	struct ls_report before, kept, iv1 = { 0 }, iv2 = { 0 };
	struct ls_section *s;
	char *a, *b;

	now->hostname = strdup("host");	/* what an interval's header copies */
	now->boot_id = strdup("boot");
	now->interval.index = 2;
	now->interval.start = strdup("2026-01-02T03:04:05.000000Z");
	now->interval.end = strdup("2026-01-02T03:04:10.000000Z");
	fixture(&before);	/* the run as the interval began: fewer switches and samples */
	s = &before.sections[0];
	s->metrics[0].v.u = 1000000;
	s->tables[0]->cells[3].u = 10;
	memset(s->histos[0].dist, 0, sizeof(*s->histos[0].dist));
	for (int i = 1; i <= 400; i++)
		ls_hist_add(s->histos[0].dist, i * 1000);
	ls_report_keep(&kept, &before);
	ls_report_interval(&iv1, now, &before, &run);
	ls_report_interval(&iv2, now, &kept, &run);
	a = render(2, &iv1);
	b = render(2, &iv2);
	ok(kept.kept && strcmp(a, b) == 0, "an interval from the kept copy is the interval from the report");
	ok(strstr(a, "\"context_switches\": 234567") && strstr(a, "\"involuntary_switches\": 7") &&
	    strstr(a, "\"count\": 600"), "... and it subtracted (switches, a table's row, a histogram)");
	if (strcmp(a, b))
		printf("# from the report:\n%s\n# from the kept copy:\n%s\n", a, b);
	free(a);
	free(b);
	ls_report_free(&iv1);
	ls_report_free(&iv2);
	ls_report_free(&kept);
	ok(!kept.kept && !kept.sections, "the kept copy is freed whole");
	ls_report_free(&before);
}

int main(void)
{
	struct ls_report r;
	char *text, *ascii, *json, *wide;

	fixture(&r);
	text = render(0, &r);
	ascii = render(1, &r);
	json = render(2, &r);
	golden("report.txt", text);
	golden("report-ascii.txt", ascii);
	golden("report.json", json);
	test_box_shape(text, false, 78);
	test_box_shape(ascii, true, 78);
	wide = render(3, &r);	/* --width 120, or a terminal that wide */
	test_box_shape(wide, false, 120);
	ok(strstr(wide, "md-feed-handler-shard-07 ") != NULL && !strstr(wide, "\u2026"),
	    "... in 120 columns the long name is whole");
	ok(strstr(text, " 4243    4242    md-feed-handler\u2026 3 ") != NULL,
	    "a text cell wider than its column ends in an ellipsis, the next column in place");
	ok(strstr(ascii, " 4243    4242    md-feed-handler~ 3 ") != NULL, "... a tilde with --ascii");
	ok(strstr(json, "\"md-feed-handler-shard-07\"") != NULL, "... and JSON keeps the whole name");
	ok(!strpbrk(ascii, "\xc2\xe2"), "--ascii output is pure ASCII");
	test_json_shape(json);
	test_exit_codes();
	test_keep(&r);
	free(text);
	free(ascii);
	free(json);
	free(wide);
	ls_report_free(&r);
	return done_testing();
}
