// SPDX-License-Identifier: GPL-2.0-only
/*
 * budget.c - --budget FILE: limits a team checks in next to its code, on
 * any value of the JSON report, judged like a module's thresholds. The
 * file is a JSON object; each key is a path in the report and each value
 * a limit:
 *
 *	{ "isolation.runqueue_latency_ns.p99": { "max": "50us" },
 *	  "irq.softirqs[vector=NET_RX].max_ns": { "max": "20us" },
 *	  "network.delivery_ns.count": { "min": 1000 } }
 *
 * A path is object keys joined by dots; [N] takes an array's element N and
 * [key=value] every element whose key is that string or number (each one
 * checked, the worst reported). A limit is a number, or a duration string
 * for values in nanoseconds. The file is read before any probe compiles,
 * so a bad one costs nothing; it is judged once the report is complete.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "latencyscope.h"

/* path_ok - a path's syntax: no empty part, brackets closed and not empty */
static bool path_ok(const char *p)
{
	bool part = false;

	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p == '.') {
			if (!part)
				return false;
			part = false;
		} else if (*p == '[') {
			const char *end = strchr(p, ']');

			if (!end || end == p + 1 || memchr(p + 1, '[', end - p - 1))
				return false;
			p = end;
			part = true;
		} else if (*p == ']') {
			return false;
		} else {
			part = true;
		}
	}
	return part;
}

/* limit - one "max" or "min": a number as it is, a duration string in ns */
static int limit(const char *file, const char *key, const char *name, json_t *v, double *out,
    bool *duration, char *err, size_t errlen)
{
	uint64_t ns;
	char why[256];

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v) && ls_parse_duration_ns(json_string_value(v), &ns, why, sizeof(why)) == 0) {
		*out = (double)ns;
		*duration = true;
		return 0;
	}
	snprintf(err, errlen, "--budget %s: \"%s\": %s must be a number or a duration such as "
	    "\"50us\"%s%s", file, key, name, json_is_string(v) ? ": " : "",
	    json_is_string(v) ? why : "");
	return -1;
}

/* limit_text - the limits as the file writes them: "max 50us, min 10us" */
static void limit_text(struct ls_budget_check *c, json_t *max, json_t *min)
{
	char a[32] = "", b[32] = "";

	if (max && json_is_string(max))
		snprintf(a, sizeof(a), "max %s", json_string_value(max));
	else if (max)
		snprintf(a, sizeof(a), "max %g", c->max);
	if (min && json_is_string(min))
		snprintf(b, sizeof(b), "min %s", json_string_value(min));
	else if (min)
		snprintf(b, sizeof(b), "min %g", c->min);
	snprintf(c->limit, sizeof(c->limit), "%s%s%s", a, *a && *b ? ", " : "", b);
}

/* check_load - one key and its limits */
static int check_load(const char *file, const char *key, json_t *v, struct ls_budget_check *c,
    char *err, size_t errlen)
{
	const char *name;
	json_t *x;

	if (!path_ok(key)) {
		snprintf(err, errlen, "--budget %s: \"%s\" is not a report path: keys joined by dots, "
		    "with [N] or [key=value] to pick array elements", file, key);
		return -1;
	}
	if (!json_is_object(v) || !json_object_size(v)) {
		snprintf(err, errlen, "--budget %s: \"%s\" needs a limit: {\"max\": ...} and/or "
		    "{\"min\": ...}", file, key);
		return -1;
	}
	json_object_foreach(v, name, x) {
		bool max = !strcmp(name, "max");

		if (!max && strcmp(name, "min")) {
			snprintf(err, errlen, "--budget %s: \"%s\": unknown limit \"%s\" (max or min)",
			    file, key, name);
			return -1;
		}
		if (limit(file, key, name, x, max ? &c->max : &c->min, &c->duration, err, errlen) < 0)
			return -1;
		*(max ? &c->has_max : &c->has_min) = true;
	}
	c->key = ls_xstrdup(key);
	limit_text(c, json_object_get(v, "max"), json_object_get(v, "min"));
	return 0;
}

/*
 * ls_json_file - the JSON file an option names (--budget, --baseline); NULL
 * with "OPT PATH: line L, column C: what" (or the open error) in err
 */
json_t *ls_json_file(const char *opt, const char *path, size_t flags, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, flags, &je);

	if (!root && je.line > 0)
		snprintf(err, errlen, "%s %s: line %d, column %d: %s", opt, path, je.line, je.column,
		    je.text);
	else if (!root)
		snprintf(err, errlen, "%s %s: %s", opt, path, je.text);
	return root;
}

/* ls_budget_load - read and check FILE; a syntax error names its line and column */
int ls_budget_load(const char *path, struct ls_budget *b, char *err, size_t errlen)
{
	json_t *root = ls_json_file("--budget", path, JSON_REJECT_DUPLICATES, err, errlen), *v;
	const char *key;

	memset(b, 0, sizeof(*b));
	if (!root)
		return -1;
	if (!json_is_object(root) || !json_object_size(root)) {
		snprintf(err, errlen, "--budget %s: expected an object of report paths and limits, "
		    "such as {\"isolation.runqueue_latency_ns.p99\": {\"max\": \"50us\"}}", path);
		json_decref(root);
		return -1;
	}
	b->path = ls_xstrdup(path);
	b->checks = ls_xcalloc(json_object_size(root), sizeof(*b->checks));
	json_object_foreach(root, key, v) {
		if (check_load(path, key, v, &b->checks[b->n], err, errlen) < 0) {
			json_decref(root);
			ls_budget_free(b);
			return -1;
		}
		b->n++;
	}
	json_decref(root);
	return 0;
}

/* select_match - an array element picked by [key=value]: that string, or that number */
static bool select_match(json_t *elem, const char *sel, size_t len)
{
	const char *eq = memchr(sel, '=', len);
	char key[128], val[128], *end;
	json_t *f;
	double d;

	if (!eq || (size_t)(eq - sel) >= sizeof(key) || len - (eq - sel) > sizeof(val))
		return false;
	snprintf(key, sizeof(key), "%.*s", (int)(eq - sel), sel);
	snprintf(val, sizeof(val), "%.*s", (int)(len - (eq - sel) - 1), eq + 1);
	f = json_object_get(elem, key);
	if (json_is_string(f))
		return !strcmp(json_string_value(f), val);
	d = strtod(val, &end);
	return json_is_number(f) && end != val && !*end && json_number_value(f) == d;
}

/* resolve - every value at path under v, appended to out */
static void resolve(json_t *v, const char *path, json_t *out)
{
	if (!v)
		return;
	if (!*path) {
		json_array_append(out, v);
	} else if (*path == '[') {
		const char *sel = path + 1, *end = strchr(sel, ']'), *rest = end + 1;
		size_t len = (size_t)(end - sel), i;
		json_t *e;
		char *num;
		long idx = strtol(sel, &num, 10);

		rest += *rest == '.';
		if (num == end)
			resolve(json_array_get(v, (size_t)idx), rest, out);
		else
			json_array_foreach(v, i, e)
				if (select_match(e, sel, len))
					resolve(e, rest, out);
	} else {
		size_t n = strcspn(path, ".[");
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)n, path);
		path += n;
		path += *path == '.';
		resolve(json_object_get(v, name), path, out);
	}
}

/* judge_one - a check against the report: its row and, unless it passes, a finding */
static void judge_one(struct ls_section *s, struct ls_table *t, const struct ls_budget_check *c,
    json_t *doc, const char *file)
{
	json_t *vals = json_array(), *x;
	struct ls_value *row = ls_table_row(t);
	double hi = -INFINITY, lo = INFINITY, shown;
	const char *status = "pass";
	char a[48];
	size_t i;
	int n = 0;

	resolve(doc, c->key, vals);
	json_array_foreach(vals, i, x)
		if (json_is_number(x)) {
			hi = fmax(hi, json_number_value(x));
			lo = fmin(lo, json_number_value(x));
			n++;
		}
	json_decref(vals);
	row[0] = ls_v_str(c->key);
	row[1] = ls_v_str(c->limit);
	if (!n) {
		row[2] = ls_v_null();
		row[3] = ls_v_str("missing");
		ls_section_finding(s, LS_WARN, "check the key against the JSON report (--json); a "
		    "histogram's percentiles are null until it has enough samples", "%s has no value "
		    "in this report: a module that did not run, too few samples, or a misspelt key",
		    c->key);
		return;
	}
	shown = c->has_max ? hi : lo;
	if (c->has_max && hi > c->max)
		status = "fail";
	else if (c->has_min && lo < c->min)
		status = "fail", shown = lo;
	row[2] = c->duration && shown >= 0 ? ls_v_uint((uint64_t)llround(shown), LS_F_NS) :
	    ls_v_double(shown, LS_F_PLAIN);
	row[3] = ls_v_str(status);
	if (*status == 'f') {
		if (c->duration)
			ls_fmt_ns(a, sizeof(a), shown, true);
		else
			snprintf(a, sizeof(a), "%g", shown);
		ls_section_finding(s, LS_FAIL, "the other modules' findings name the cause; change "
		    "the budget only in the file under review", "%s is %s: over its budget (%s in %s)",
		    c->key, a, c->limit, file);
	}
}

/* ls_budget_section - the BUDGET box: every check, judged on the report as it stands */
void ls_budget_section(struct ls_report *rep, const struct ls_budget *b)
{
	static const struct ls_column cols[] = {
		{ "key", "KEY", 40 }, { "limit", "LIMIT", 18 }, { "value", "VALUE", 12 },
		{ "status", "STATUS", 7 },
	};
	json_t *doc = ls_report_json(rep);
	struct ls_section *s = ls_report_add_section(rep, "budget", "BUDGET");
	struct ls_table *t = ls_section_table(s, "checks", "Checks", 4, cols);

	for (int i = 0; i < b->n; i++)
		judge_one(s, t, &b->checks[i], doc, b->path);
	if (!s->nfindings)
		ls_section_finding(s, LS_PASS, NULL, "all %d checks of %s are within their limits",
		    b->n, b->path);
	ls_section_set_verdict(s);
	json_decref(doc);
}

void ls_budget_free(struct ls_budget *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->checks[i].key);
	free(b->checks);
	free(b->path);
	memset(b, 0, sizeof(*b));
}
