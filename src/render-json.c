// SPDX-License-Identifier: GPL-2.0-only
/* render-json.c - the report model as JSON (schema in doc/json-schema.md) */

#include "config.h"

#include <string.h>

#include <jansson.h>

#include "latencyscope.h"

#define LS_SCHEMA_VERSION 1

static json_t *value_json(const struct ls_value *v)
{
	switch (v->type) {
	case LS_V_UINT:
		return json_integer((json_int_t)v->u);
	case LS_V_DOUBLE:
		return json_real(v->d);
	case LS_V_STR:
		return json_string(v->s);
	case LS_V_BOOL:
		return json_boolean(v->b);
	case LS_V_JSON: {
		json_t *j = json_loads(v->s, JSON_DECODE_ANY, NULL);

		return j ? j : json_null();
	}
	default:
		return json_null();
	}
}

/* set_dotted - obj["a"]["b"] = v for key "a.b", creating the inner objects */
static void set_dotted(json_t *obj, const char *key, json_t *v)
{
	const char *dot = strchr(key, '.');
	char head[64];
	json_t *inner;

	if (!dot) {
		json_object_set_new(obj, key, v);
		return;
	}
	snprintf(head, sizeof(head), "%.*s", (int)(dot - key), key);
	inner = json_object_get(obj, head);
	if (!inner) {
		inner = json_object();
		json_object_set_new(obj, head, inner);
	}
	set_dotted(inner, dot + 1, v);
}

static json_t *summary_json(const struct ls_summary *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "count", json_integer((json_int_t)s->count));
	json_object_set_new(o, "min", s->count ? json_integer((json_int_t)s->min) : json_null());
	json_object_set_new(o, "max", s->count ? json_integer((json_int_t)s->max) : json_null());
	json_object_set_new(o, "mean", s->count ? json_real(s->mean) : json_null());
	for (int i = 0; i < LS_NPCT; i++)
		json_object_set_new(o, ls_pct_keys[i],
		    s->pct_valid[i] ? json_integer((json_int_t)(s->pct[i] + 0.5)) : json_null());
	return o;
}

/*
 * histo_json - a distribution's summary and its non-empty buckets, each
 * [lowest value in ns, count], in order: what --baseline compares
 */
static json_t *histo_json(const struct ls_histo *h)
{
	json_t *o = summary_json(&h->s), *b;

	if (!h->dist)
		return o;
	b = json_array();
	for (unsigned i = 0; i < LS_HIST_NBUCKETS; i++)
		if (h->dist->b[i])
			json_array_append_new(b, json_pack("[I, I]", (json_int_t)ls_hist_bucket_low(i),
			    (json_int_t)h->dist->b[i]));
	json_object_set_new(o, "buckets", b);
	return o;
}

/* ls_cpulist_json - a CPU list as a JSON array of numbers ([] when empty) */
json_t *ls_cpulist_json(const char *list)
{
	struct ls_cpuset set;
	char err[128];
	json_t *a = json_array();

	if (!list || ls_cpulist_parse(list, &set, true, err, sizeof(err)) < 0)
		return a;
	for (int c = 0; c < LS_MAX_CPUS; c++)
		if (ls_cpuset_isset(&set, c))
			json_array_append_new(a, json_integer(c));
	return a;
}

static json_t *section_json(const struct ls_section *s)
{
	json_t *o = json_object(), *a;

	json_object_set_new(o, "verdict", json_string(ls_level_name(s->verdict)));
	for (int i = 0; i < s->nmetrics; i++)
		if (s->metrics[i].key)	/* NULL key: text only */
			set_dotted(o, s->metrics[i].key, value_json(&s->metrics[i].v));
	for (int i = 0; i < s->nhistos; i++)
		set_dotted(o, s->histos[i].key, histo_json(&s->histos[i]));
	for (int i = 0; i < s->ntables; i++) {
		const struct ls_table *t = s->tables[i];

		a = json_array();
		for (int r = 0; r < t->nrows; r++) {
			json_t *row = json_object();

			for (int c = 0; c < t->ncols; c++)
				if (t->cols[c].key)	/* NULL key: text only */
					set_dotted(row, t->cols[c].key,
				    value_json(&t->cells[(size_t)r * t->ncols + c]));
			json_array_append_new(a, row);
		}
		set_dotted(o, t->key, a);
	}
	a = json_array();
	for (int i = 0; i < s->nfindings; i++) {
		const struct ls_finding *f = &s->findings[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "level", ls_level_name(f->level),
		    "message", f->message, "recommendation",
		    f->recommendation ? json_string(f->recommendation) : json_null()));
	}
	json_object_set_new(o, "findings", a);
	a = json_array();
	for (int i = 0; i < s->nnotes; i++)
		json_array_append_new(a, json_string(s->notes[i]));
	json_object_set_new(o, "notes", a);
	return o;
}

/* ls_report_json - the report as the JSON document --json writes (caller decrefs) */
json_t *ls_report_json(const struct ls_report *r)
{
	json_t *root = json_object(), *run, *a, *ov;

	json_object_set_new(root, "schema_version", json_integer(LS_SCHEMA_VERSION));
	json_object_set_new(root, "tool", json_pack("{s:s, s:s}", "name", "latencyscope",
	    "version", r->tool_version ? r->tool_version : ""));
	json_object_set_new(root, "host", json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:o, s:o}",
	    "hostname", r->hostname ? r->hostname : "", "kernel", r->kernel ? r->kernel : "",
	    "boot_id", r->boot_id && *r->boot_id ? r->boot_id : NULL, "cmdline", r->cmdline,
	    "nr_cpus", r->nr_cpus,
	    "isolated_cpus", ls_cpulist_json(r->isolated_cpus),
	    "nohz_full_cpus", ls_cpulist_json(r->nohz_full_cpus)));

	run = json_object();
	json_object_set_new(run, "started_at", r->started_at ? json_string(r->started_at) : json_null());
	json_object_set_new(run, "duration_s", json_real(r->duration_s));
	json_object_set_new(run, "ended_by", r->ended_by ? json_string(r->ended_by) : json_null());
	json_object_set_new(run, "cpus", ls_cpulist_json(r->cpus));
	a = json_array();
	for (int i = 0; i < r->npids; i++)
		json_array_append_new(a, json_integer(r->pids[i]));
	json_object_set_new(run, "pids", a);
	a = json_array();	/* --pid processes that exited: when, since the start */
	for (int i = 0; i < r->targets.n; i++)
		if (r->targets.t[i].exited_s >= 0)
			json_array_append_new(a, json_pack("{s:i, s:f, s:b}", "pid", r->targets.t[i].pid,
			    "at_s", r->targets.t[i].exited_s, "before_start", r->targets.t[i].before_start));
	json_object_set_new(run, "exited", a);
	a = json_array();
	for (int i = 0; i < r->nsections; i++)
		json_array_append_new(a, json_string(r->sections[i].name));
	json_object_set_new(run, "modules", a);
	if (r->interval.index)	/* --interval: the interval this report covers */
		json_object_set_new(run, "interval", json_pack("{s:i, s:s?, s:s?, s:f, s:f}",
		    "index", r->interval.index, "start", r->interval.start, "end", r->interval.end,
		    "start_s", r->interval.start_s, "end_s", r->interval.start_s + r->duration_s));
	json_object_set_new(root, "run", run);

	for (int i = 0; i < r->nsections; i++)
		json_object_set_new(root, r->sections[i].name, section_json(&r->sections[i]));

	json_object_set_new(root, "summary", json_pack("{s:i, s:i, s:i}", "violations", r->violations,
	    "warnings", r->warnings, "exit_code", r->exit_code));
	ov = json_object();
	json_object_set_new(ov, "available", json_boolean(r->overhead.available));
	if (r->overhead.available) {
		json_object_set_new(ov, "programs", json_integer(r->overhead.nprogs));
		json_object_set_new(ov, "sampled_fraction", json_real(r->overhead.fraction));
		json_object_set_new(ov, "switches", json_integer(r->overhead.switches));
		json_object_set_new(ov, "run_time_ns", json_integer((json_int_t)r->overhead.run_time_ns));
		json_object_set_new(ov, "run_cnt", json_integer((json_int_t)r->overhead.run_cnt));
		json_object_set_new(ov, "mean_ns", json_real(r->overhead.mean_ns));
		json_object_set_new(ov, "share_of_monitored_cpu", json_real(r->overhead.share));
	} else {
		json_object_set_new(ov, "reason", json_string(r->overhead.why_not ? r->overhead.why_not : ""));
	}
	json_object_set_new(root, "overhead", ov);
	json_object_set_new(root, "lost_events", json_integer((json_int_t)r->lost_events));
	if (r->lost_events) {	/* by CPU: which CPU's events the ring buffer could not take */
		json_t *pc = json_array();

		for (int c = 0; c < r->nlost_cpus && r->lost_per_cpu; c++)
			if (r->lost_per_cpu[c])
				json_array_append_new(pc, json_pack("{s:i, s:I}", "cpu", c, "lost",
				    (json_int_t)r->lost_per_cpu[c]));
		json_object_set_new(root, "lost_events_per_cpu", pc);
	}
	if (r->timeline_overflow) {	/* a trace format's events past the in-memory limit */
		json_object_set_new(root, "timeline_overflow", json_integer((json_int_t)r->timeline_overflow));
		json_object_set_new(root, "timeline_full_at_s", json_real(r->timeline_full_at_s));
		json_object_set_new(root, "timeline_kept", json_integer(r->timeline_max));
	}

	return root;
}

/* ls_render_json_line - the report on one line (--interval: JSON Lines); 0 on success */
int ls_render_json_line(FILE *f, const struct ls_report *r)
{
	json_t *root = ls_report_json(r);
	int rc = json_dumpf(root, f, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(LS_JSON_REAL_DIGITS));

	json_decref(root);
	if (rc == 0 && fputc('\n', f) == EOF)
		rc = -1;
	fflush(f);
	return rc;
}

/* ls_render_json - write the report; 0 on success */
int ls_render_json(FILE *f, const struct ls_report *r)
{
	json_t *root = ls_report_json(r);
	int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(LS_JSON_REAL_DIGITS));

	fputc('\n', f);
	json_decref(root);
	return rc;
}
