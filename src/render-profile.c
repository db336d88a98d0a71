// SPDX-License-Identifier: GPL-2.0-only
/*
 * render-profile.c - a profile (profile.c) in the formats flame-graph tools
 * read: folded stacks (flamegraph.pl, speedscope), speedscope's JSON file
 * format, Chrome trace events (added to the timeline's file, timeline.c)
 * and gzipped pprof (profile.proto, built with libprotobuf-c and zlib).
 * Values are nanoseconds of wall-clock time throughout.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "latencyscope.h"
#include "profile.pb-c.h"

/* thread_frame - "comm-tid", the root of a thread's stacks in merged views */
static void thread_frame(const struct ls_pthread *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", t->comm, t->tid);
}

/* folded_name - a frame name without the folded format's separators */
static void folded_put(FILE *f, const char *name)
{
	for (const char *c = name; *c; c++)
		fputc(*c == ';' ? ':' : *c == '\n' ? ' ' : *c, f);
}

/* ls_render_folded - one line per stack: "thread;marker;frames... ns" */
int ls_render_folded(FILE *f, const struct ls_profile *p)
{
	char th[64];

	for (int i = 0; i < p->nthreads; i++) {
		const struct ls_pthread *t = &p->threads[i];

		thread_frame(t, th, sizeof(th));
		for (int k = 0; k < t->nsamples; k++) {
			const struct ls_psample *s = &t->samples[k];

			if (!p->no_thread_root)
				folded_put(f, th);
			for (int j = 0; j < s->nframes; j++) {
				if (j || !p->no_thread_root)
					fputc(';', f);
				folded_put(f, p->frames[s->frames[j]]);
			}
			fprintf(f, " %llu\n", (unsigned long long)s->ns);
		}
	}
	return ferror(f) ? -1 : 0;
}

static int dump(FILE *f, json_t *root)
{
	int rc = json_dumpf(root, f, JSON_COMPACT);

	fputc('\n', f);
	json_decref(root);
	return rc;
}

/*
 * ls_render_speedscope - speedscope's file format: the frames once, then
 * one "sampled" profile per thread whose samples are stacks (root first)
 * weighted by nanoseconds
 */
int ls_render_speedscope(FILE *f, const struct ls_profile *p)
{
	json_t *root = json_object(), *frames = json_array(), *profiles = json_array();

	for (int i = 0; i < p->nframes; i++)
		json_array_append_new(frames, json_pack("{s:s}", "name", p->frames[i]));
	for (int i = 0; i < p->nthreads; i++) {
		const struct ls_pthread *t = &p->threads[i];
		json_t *samples = json_array(), *weights = json_array();
		uint64_t total = 0;
		char name[96];

		for (int k = 0; k < t->nsamples; k++) {
			const struct ls_psample *s = &t->samples[k];
			json_t *st = json_array();

			for (int j = 0; j < s->nframes; j++)
				json_array_append_new(st, json_integer(s->frames[j]));
			json_array_append_new(samples, st);
			json_array_append_new(weights, json_integer((json_int_t)s->ns));
			total += s->ns;
		}
		if (p->no_thread_root)	/* not a thread: the alpha flame graph */
			snprintf(name, sizeof(name), "%s", t->comm);
		else
			snprintf(name, sizeof(name), "%s (pid %u, tid %u)", t->comm, t->pid, t->tid);
		json_array_append_new(profiles, json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o}",
		    "type", "sampled", "name", name, "unit", p->unit ? p->unit : "nanoseconds",
		    "startValue", (json_int_t)0,
		    "endValue", (json_int_t)total, "samples", samples, "weights", weights));
	}
	json_object_set_new(root, "$schema", json_string("https://www.speedscope.app/file-format-schema.json"));
	json_object_set_new(root, "shared", json_pack("{s:o}", "frames", frames));
	json_object_set_new(root, "profiles", profiles);
	json_object_set_new(root, "name", json_string("latencyscope wall-clock profile"));
	json_object_set_new(root, "activeProfileIndex", json_integer(0));
	json_object_set_new(root, "exporter", json_string("latencyscope " PACKAGE_VERSION));
	return dump(f, root);
}

/*
 * ls_profile_trace_events - each thread's stacks laid end to end as nested
 * slices, heaviest first, so a trace viewer shows a flame chart per thread
 * (time is aggregated, not the order things happened in); process ids are
 * offset by pid_base when the file also holds a timeline. Begin/end pairs
 * at whole nanoseconds: one sample's end is the next one's start exactly.
 */
void ls_profile_trace_events(json_t *ev, const struct ls_profile *p, uint32_t pid_base)
{
	for (int i = 0; i < p->nthreads; i++) {
		const struct ls_pthread *t = &p->threads[i];
		json_int_t pid = (json_int_t)pid_base + t->pid, tid = (json_int_t)pid_base + t->tid;
		uint64_t ns = 0;
		char name[64];

		snprintf(name, sizeof(name), "%s (stacks)", t->comm);
		json_array_append_new(ev, json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name", "thread_name",
		    "ph", "M", "pid", pid, "tid", tid, "args", "name", pid_base ? name : t->comm));
		for (int k = 0; k < t->nsamples; k++) {
			const struct ls_psample *s = &t->samples[k];

			for (int j = 0; j < s->nframes; j++)
				json_array_append_new(ev, json_pack("{s:s, s:s, s:s, s:f, s:I, s:I}",
				    "name", p->frames[s->frames[j]], "cat", s->running ? "on-cpu" : "off-cpu",
				    "ph", "B", "ts", ns / 1000.0, "pid", pid, "tid", tid));
			ns += s->ns;
			for (int j = s->nframes - 1; j >= 0; j--)
				json_array_append_new(ev, json_pack("{s:s, s:s, s:f, s:I, s:I}",
				    "name", p->frames[s->frames[j]], "ph", "E", "ts", ns / 1000.0,
				    "pid", pid, "tid", tid));
		}
	}
}

/* pprof string table */
struct strtab {
	char	**s;
	size_t	 n;
};

static int64_t str_id(struct strtab *st, const char *s)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->s[i], s))
			return (int64_t)i;
	st->s = ls_xrealloc(st->s, (st->n + 1) * sizeof(char *));
	st->s[st->n] = (char *)s;
	return (int64_t)st->n++;
}

static Perftools__Profiles__ValueType *value_type(struct strtab *st, const char *type, const char *unit)
{
	Perftools__Profiles__ValueType *v = ls_xcalloc(1, sizeof(*v));

	perftools__profiles__value_type__init(v);
	v->type = str_id(st, type);
	v->unit = str_id(st, unit);
	return v;
}

static Perftools__Profiles__Label *label(struct strtab *st, const char *key, const char *str, int64_t num)
{
	Perftools__Profiles__Label *l = ls_xcalloc(1, sizeof(*l));

	perftools__profiles__label__init(l);
	l->key = str_id(st, key);
	if (str)
		l->str = str_id(st, str);
	else
		l->num = num;
	return l;
}

/* gzip_write - data gzip-compressed to f */
static int gzip_write(FILE *f, const uint8_t *data, size_t len)
{
	z_stream z;
	uint8_t out[65536];
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (uint8_t *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, Z_FINISH);
		if (fwrite(out, 1, sizeof(out) - z.avail_out, f) != sizeof(out) - z.avail_out) {
			deflateEnd(&z);
			return -1;
		}
	} while (rc == Z_OK);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* the profile being built: its string table, locations by address, samples */
struct pprof {
	Perftools__Profiles__Profile pr;
	struct strtab	 st;
	size_t		 base;		/* string id of frame name 0 */
	uint64_t	*map_id;	/* profile map index -> pprof mapping id */
	size_t		*lhash, lcap;	/* address locations: (frame, map, addr) -> location id */
};

/*
 * pprof_mappings - one per executable file mapping a frame was found in, the
 * processes' own executables first: pprof takes the first as the main binary
 */
static void pprof_mappings(struct pprof *pp, const struct ls_profile *p)
{
	Perftools__Profiles__Profile *pr = &pp->pr;

	pp->map_id = ls_xcalloc(p->nmaps ? p->nmaps : 1, sizeof(*pp->map_id));
	pr->mapping = ls_xcalloc(p->nmaps ? p->nmaps : 1, sizeof(*pr->mapping));
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < p->nmaps; i++) {
			const struct ls_pmap *m = &p->maps[i];
			Perftools__Profiles__Mapping *pm;

			if (m->main != (pass == 0))
				continue;
			pm = ls_xcalloc(1, sizeof(*pm));
			perftools__profiles__mapping__init(pm);
			pm->id = pr->n_mapping + 1;
			pm->memory_start = m->start;
			pm->memory_limit = m->limit;
			pm->file_offset = m->offset;
			pm->filename = str_id(&pp->st, m->path);
			pm->build_id = str_id(&pp->st, m->build_id);
			/* has_functions stays false although the locations name theirs:
			 * pprof then reads functions, files and lines from the binary when
			 * it finds it, and keeps these names when it does not */
			pp->map_id[i] = pm->id;
			pr->mapping[pr->n_mapping++] = pm;
		}
	}
}

static Perftools__Profiles__Location *new_location(struct pprof *pp, int frame, uint64_t mapping,
    uint64_t addr)
{
	Perftools__Profiles__Location *lo = ls_xcalloc(1, sizeof(*lo));
	Perftools__Profiles__Line *ln = ls_xcalloc(1, sizeof(*ln));

	perftools__profiles__location__init(lo);
	perftools__profiles__line__init(ln);
	ln->function_id = frame + 1;
	lo->id = pp->pr.n_location + 1;
	lo->mapping_id = mapping;
	lo->address = addr;
	lo->n_line = 1;
	lo->line = ls_xcalloc(1, sizeof(*lo->line));
	lo->line[0] = ln;
	return lo;
}

/* location_id - a frame's location: by name alone (ids 1..nframes), or at an address */
static uint64_t location_id(struct pprof *pp, int frame, const struct ls_ploc *l)
{
	Perftools__Profiles__Profile *pr = &pp->pr;
	uint64_t h, mapping;
	size_t i;

	if (!l || l->map < 0)
		return (uint64_t)frame + 1;
	mapping = pp->map_id[l->map];
	if (pr->n_location * 2 >= pp->lcap) {	/* grow and rehash */
		size_t ncap = pp->lcap ? pp->lcap * 2 : 1024;
		size_t *nh = ls_xcalloc(ncap, sizeof(*nh));

		for (size_t k = 0; k < pp->lcap; k++) {
			Perftools__Profiles__Location *lo;

			if (!pp->lhash[k])
				continue;
			lo = pr->location[pp->lhash[k] - 1];
			h = (lo->address * 0x9e3779b97f4a7c15ULL) ^ lo->line[0]->function_id;
			for (i = h & (ncap - 1); nh[i]; i = (i + 1) & (ncap - 1))
				;
			nh[i] = pp->lhash[k];
		}
		free(pp->lhash);
		pp->lhash = nh;
		pp->lcap = ncap;
	}
	h = (l->addr * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)(frame + 1);
	for (i = h & (pp->lcap - 1); pp->lhash[i]; i = (i + 1) & (pp->lcap - 1)) {
		Perftools__Profiles__Location *lo = pr->location[pp->lhash[i] - 1];

		if (lo->address == l->addr && lo->mapping_id == mapping &&
		    lo->line[0]->function_id == (uint64_t)frame + 1)
			return lo->id;
	}
	pr->location = ls_xrealloc(pr->location, (pr->n_location + 1) * sizeof(*pr->location));
	pr->location[pr->n_location] = new_location(pp, frame, mapping, l->addr);
	pp->lhash[i] = ++pr->n_location;
	return pr->n_location;
}
/* pprof_sample - one sample: a stack's locations (leaf first), its time, its thread's labels */
static void pprof_sample(struct pprof *pp, const struct ls_pthread *t, int64_t comm,
    const struct ls_psample *s, const struct ls_ploc *locs, uint64_t ns)
{
	Perftools__Profiles__Profile *pr = &pp->pr;
	Perftools__Profiles__Sample *sm = ls_xcalloc(1, sizeof(*sm));

	perftools__profiles__sample__init(sm);
	sm->n_location_id = s->nframes;
	sm->location_id = ls_xcalloc(s->nframes ? s->nframes : 1, sizeof(uint64_t));
	for (int j = 0; j < s->nframes; j++) {
		int fi = s->nframes - 1 - j;

		sm->location_id[j] = location_id(pp, s->frames[fi], locs ? &locs[fi] : NULL);
	}
	sm->n_value = 3;
	sm->value = ls_xcalloc(3, sizeof(int64_t));
	sm->value[0] = (int64_t)ns;
	sm->value[1] = s->running ? (int64_t)ns : 0;
	sm->value[2] = s->running ? 0 : (int64_t)ns;
	sm->n_label = 4;
	sm->label = ls_xcalloc(4, sizeof(*sm->label));
	sm->label[0] = label(&pp->st, "thread", NULL, t->tid);
	sm->label[1] = label(&pp->st, "pid", NULL, t->pid);
	sm->label[2] = label(&pp->st, "comm", NULL, 0);
	sm->label[2]->str = comm;
	sm->label[3] = label(&pp->st, "state", NULL, 0);
	sm->label[3]->str = (int64_t)(pp->base + s->frames[0]);
	pr->sample = ls_xrealloc(pr->sample, (pr->n_sample + 1) * sizeof(*pr->sample));
	pr->sample[pr->n_sample++] = sm;
}

/* pprof_free - what the profile holds and was built here (its strings are the model's) */
static void pprof_free(struct pprof *pp)
{
	Perftools__Profiles__Profile *pr = &pp->pr;

	free(pp->st.s);
	for (size_t i = 0; i < pr->n_sample; i++) {
		for (size_t j = 0; j < pr->sample[i]->n_label; j++)
			free(pr->sample[i]->label[j]);
		free(pr->sample[i]->label);
		free(pr->sample[i]->location_id);
		free(pr->sample[i]->value);
		free(pr->sample[i]);
	}
	free(pr->sample);
	for (size_t i = 0; i < pr->n_location; i++) {
		free(pr->location[i]->line[0]);
		free(pr->location[i]->line);
		free(pr->location[i]);
	}
	free(pr->location);
	for (size_t i = 0; i < pr->n_function; i++)
		free(pr->function[i]);
	free(pr->function);
	for (size_t i = 0; i < pr->n_mapping; i++)
		free(pr->mapping[i]);
	free(pr->mapping);
	for (size_t i = 0; i < pr->n_sample_type; i++)
		free(pr->sample_type[i]);
	free(pr->sample_type);
	free(pr->period_type);
	free(pp->map_id);
	free(pp->lhash);
}

/*
 * ls_render_pprof - profile.proto, gzipped: sample types wall (the default
 * view), cpu and offcpu (nanoseconds); a function per frame name; a
 * location per frame name, or per address in a mapping where the stack
 * walk gave one; labels for the thread, its process, name and state
 */
int ls_render_pprof(FILE *f, const struct ls_profile *p)
{
	struct pprof pp = { .pr = PERFTOOLS__PROFILES__PROFILE__INIT };
	Perftools__Profiles__Profile *pr = &pp.pr;
	size_t len;
	uint8_t *buf;
	int rc;

	str_id(&pp.st, "");
	pr->n_sample_type = 3;
	pr->sample_type = ls_xcalloc(3, sizeof(*pr->sample_type));
	pr->sample_type[0] = value_type(&pp.st, "wall", "nanoseconds");
	pr->sample_type[1] = value_type(&pp.st, "cpu", "nanoseconds");
	pr->sample_type[2] = value_type(&pp.st, "offcpu", "nanoseconds");
	pr->period_type = value_type(&pp.st, "wall", "nanoseconds");
	/* without it pprof opens on the last sample type (offcpu): wall is the whole story */
	pr->default_sample_type = str_id(&pp.st, "wall");
	pr->period = (int64_t)p->period_ns;
	str_id(&pp.st, "thread");
	str_id(&pp.st, "pid");
	str_id(&pp.st, "comm");
	str_id(&pp.st, "state");
	pp.base = pp.st.n;	/* frame names follow, in order: string id = base + index */
	pp.st.s = ls_xrealloc(pp.st.s, (pp.st.n + p->nframes) * sizeof(char *));
	for (int i = 0; i < p->nframes; i++)
		pp.st.s[pp.st.n++] = p->frames[i];
	pr->time_nanos = (int64_t)p->start_real_ns;
	pr->duration_nanos = (int64_t)p->duration_ns;
	/* a function and a name-only location per frame name: ids are index + 1 */
	pr->function = ls_xcalloc(p->nframes ? p->nframes : 1, sizeof(*pr->function));
	pr->location = ls_xcalloc(p->nframes ? p->nframes : 1, sizeof(*pr->location));
	for (int i = 0; i < p->nframes; i++) {
		Perftools__Profiles__Function *fn = ls_xcalloc(1, sizeof(*fn));

		perftools__profiles__function__init(fn);
		fn->id = i + 1;
		fn->name = fn->system_name = (int64_t)(pp.base + i);
		pr->function[pr->n_function++] = fn;
		pr->location[i] = new_location(&pp, i, 0, 0);
		pr->n_location++;
	}
	pprof_mappings(&pp, p);
	for (int i = 0; i < p->nthreads; i++) {
		const struct ls_pthread *t = &p->threads[i];
		int64_t comm = str_id(&pp.st, t->comm);

		for (int k = 0; k < t->nsamples; k++) {
			const struct ls_psample *s = &t->samples[k];
			uint64_t rest = s->ns;

			for (int v = 0; v < s->nvariants; v++) {
				pprof_sample(&pp, t, comm, s, s->variants[v].locs, s->variants[v].ns);
				rest -= s->variants[v].ns;
			}
			if (rest)	/* time added without addresses */
				pprof_sample(&pp, t, comm, s, NULL, rest);
		}
	}
	pr->n_string_table = pp.st.n;
	pr->string_table = pp.st.s;
	len = perftools__profiles__profile__get_packed_size(pr);
	buf = ls_xmalloc(len ? len : 1);
	perftools__profiles__profile__pack(pr, buf);
	rc = gzip_write(f, buf, len);
	free(buf);
	pprof_free(&pp);
	return rc;
}
