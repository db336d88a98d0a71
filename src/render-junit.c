// SPDX-License-Identifier: GPL-2.0-only
/*
 * render-junit.c - the report as a JUnit XML file, the format CI servers
 * (Jenkins, GitLab, GitHub Actions' test reporters) show: one <testsuite>
 * per run; a <testcase> per module verdict and per --budget check; a
 * <failure> per FAIL with its findings and their fixes; <skipped> for a
 * module not measured or a budget key the report lacks; the boxed report
 * in <system-out>. Written with libxml2's text writer, which escapes.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "latencyscope.h"

#define X(s) ((const xmlChar *)(s))

/* findings_text - every finding of level l, each with its fix, one per paragraph */
static char *findings_text(const struct ls_section *s, enum ls_level l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (!f)
		ls_oom();
	for (int i = 0; i < s->nfindings; i++) {
		const struct ls_finding *fi = &s->findings[i];

		if (fi->level != l)
			continue;
		fprintf(f, "%s%s\n", first ? "" : "\n", fi->message);
		first = false;
		if (fi->recommendation)
			fprintf(f, "fix: %s\n", fi->recommendation);
	}
	fclose(f);
	return buf;
}

/* first_finding - the first finding of level l, for the short message attribute */
static const char *first_finding(const struct ls_section *s, enum ls_level l)
{
	for (int i = 0; i < s->nfindings; i++)
		if (s->findings[i].level == l)
			return s->findings[i].message;
	return "";
}

/* module_case - a module's verdict: passed, failed with its findings, or skipped */
static void module_case(xmlTextWriterPtr w, const struct ls_section *s, double secs)
{
	char name[128], t[32];

	snprintf(name, sizeof(name), "latencyscope.%s", s->name);
	snprintf(t, sizeof(t), "%.3f", secs);
	xmlTextWriterStartElement(w, X("testcase"));
	xmlTextWriterWriteAttribute(w, X("classname"), X(name));
	xmlTextWriterWriteAttribute(w, X("name"), X(s->title));
	xmlTextWriterWriteAttribute(w, X("time"), X(t));
	if (s->verdict == LS_FAIL) {
		char *text = findings_text(s, LS_FAIL);

		xmlTextWriterStartElement(w, X("failure"));
		xmlTextWriterWriteAttribute(w, X("message"), X(first_finding(s, LS_FAIL)));
		xmlTextWriterWriteAttribute(w, X("type"), X("violation"));
		xmlTextWriterWriteString(w, X(text));
		xmlTextWriterEndElement(w);
		free(text);
	} else if (s->verdict == LS_NOT_MEASURED) {
		xmlTextWriterStartElement(w, X("skipped"));
		xmlTextWriterWriteAttribute(w, X("message"), X(s->nnotes ? s->notes[0] : "not measured"));
		xmlTextWriterEndElement(w);
	}
	if (s->verdict == LS_WARN) {	/* JUnit has no warning: the CI server shows the output */
		char *text = findings_text(s, LS_WARN);

		xmlTextWriterWriteElement(w, X("system-out"), X(text));
		free(text);
	}
	xmlTextWriterEndElement(w);
}

/* budget_cases - a test case per --budget check, from the section's checks table */
static void budget_cases(xmlTextWriterPtr w, const struct ls_section *s)
{
	const struct ls_table *t = ls_section_find_table(s, "checks");

	for (int r = 0; t && r < t->nrows; r++) {
		const char *key = ls_table_cell(t, r, "key")->s, *st = ls_table_cell(t, r, "status")->s;
		const char *lim = ls_table_cell(t, r, "limit")->s;
		char msg[512];

		xmlTextWriterStartElement(w, X("testcase"));
		xmlTextWriterWriteAttribute(w, X("classname"), X("latencyscope.budget"));
		xmlTextWriterWriteAttribute(w, X("name"), X(key));
		xmlTextWriterWriteAttribute(w, X("time"), X("0"));
		if (!strcmp(st, "fail") || !strcmp(st, "missing")) {
			bool fail = *st == 'f';

			snprintf(msg, sizeof(msg), "%s: %s", key, st);
			for (int i = 0; i < s->nfindings; i++)	/* the finding that names this key */
				if (strstr(s->findings[i].message, key)) {
					snprintf(msg, sizeof(msg), "%s", s->findings[i].message);
					break;
				}
			xmlTextWriterStartElement(w, X(fail ? "failure" : "skipped"));
			xmlTextWriterWriteAttribute(w, X("message"), X(msg));
			if (fail) {
				xmlTextWriterWriteAttribute(w, X("type"), X("budget"));
				xmlTextWriterWriteFormatString(w, "%s\nlimit: %s\n", msg, lim);
			}
			xmlTextWriterEndElement(w);
		}
		xmlTextWriterEndElement(w);
	}
}

/* counts - test cases, failures and skipped, as the cases above write them */
static void counts(const struct ls_report *r, int *tests, int *failures, int *skipped)
{
	*tests = *failures = *skipped = 0;
	for (int i = 0; i < r->nsections; i++) {
		const struct ls_section *s = &r->sections[i];
		const struct ls_table *t;

		if (strcmp(s->name, "budget")) {
			(*tests)++;
			*failures += s->verdict == LS_FAIL;
			*skipped += s->verdict == LS_NOT_MEASURED;
			continue;
		}
		t = ls_section_find_table(s, "checks");
		for (int k = 0; t && k < t->nrows; k++) {
			const char *st = ls_table_cell(t, k, "status")->s;

			(*tests)++;
			*failures += !strcmp(st, "fail");
			*skipped += !strcmp(st, "missing");
		}
	}
}

/* ls_render_junit - the report as JUnit XML, box_text (the boxed report) in <system-out> */
int ls_render_junit(FILE *f, const struct ls_report *r, const char *box_text)
{
	xmlOutputBufferPtr out = xmlOutputBufferCreateFile(f, NULL);
	xmlTextWriterPtr w = out ? xmlNewTextWriter(out) : NULL;
	int tests, failures, skipped, rc = 0;
	char name[300];

	if (!w)
		return -1;
	counts(r, &tests, &failures, &skipped);
	snprintf(name, sizeof(name), "latencyscope on %s", r->hostname ? r->hostname : "?");
	xmlTextWriterSetIndent(w, 1);
	rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
	xmlTextWriterStartElement(w, X("testsuites"));
	xmlTextWriterWriteAttribute(w, X("name"), X("latencyscope"));
	xmlTextWriterWriteFormatAttribute(w, X("tests"), "%d", tests);
	xmlTextWriterWriteFormatAttribute(w, X("failures"), "%d", failures);
	xmlTextWriterWriteAttribute(w, X("errors"), X("0"));
	xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", r->duration_s);
	xmlTextWriterStartElement(w, X("testsuite"));
	xmlTextWriterWriteAttribute(w, X("name"), X(name));
	xmlTextWriterWriteFormatAttribute(w, X("tests"), "%d", tests);
	xmlTextWriterWriteFormatAttribute(w, X("failures"), "%d", failures);
	xmlTextWriterWriteAttribute(w, X("errors"), X("0"));
	xmlTextWriterWriteFormatAttribute(w, X("skipped"), "%d", skipped);
	xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", r->duration_s);
	if (r->started_at)
		xmlTextWriterWriteAttribute(w, X("timestamp"), X(r->started_at));
	xmlTextWriterWriteAttribute(w, X("hostname"), X(r->hostname ? r->hostname : ""));
	xmlTextWriterStartElement(w, X("properties"));
	xmlTextWriterStartElement(w, X("property"));
	xmlTextWriterWriteAttribute(w, X("name"), X("kernel"));
	xmlTextWriterWriteAttribute(w, X("value"), X(r->kernel ? r->kernel : ""));
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, X("property"));
	xmlTextWriterWriteAttribute(w, X("name"), X("cpus"));
	xmlTextWriterWriteAttribute(w, X("value"), X(r->cpus ? r->cpus : ""));
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, X("property"));
	xmlTextWriterWriteAttribute(w, X("name"), X("exit_code"));
	xmlTextWriterWriteFormatAttribute(w, X("value"), "%d", r->exit_code);
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
	for (int i = 0; i < r->nsections; i++) {
		if (!strcmp(r->sections[i].name, "budget"))
			budget_cases(w, &r->sections[i]);
		else
			module_case(w, &r->sections[i], r->duration_s);
	}
	xmlTextWriterWriteElement(w, X("system-out"), X(box_text ? box_text : ""));
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
	rc |= xmlTextWriterEndDocument(w) < 0;
	rc |= xmlTextWriterFlush(w) < 0;
	xmlFreeTextWriter(w);	/* closes out, not f */
	return rc ? -1 : 0;
}
