/* SPDX-License-Identifier: GPL-2.0-only */
/* latencyscope.h - internal interfaces, grouped by the file that defines them */

#ifndef LATENCYSCOPE_H
#define LATENCYSCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ls_hist.h"	/* probes/ls_hist.h: histogram layout shared with the BPF side */

#define LS_MAX_CPUS	8192
#define LS_MAX_PIDS	64
#define LS_MAX_MODULES	16
#define LS_MAX_IFACES	16
#define LS_EVENT_MAX	4096	/* the largest record a probe sends on ls_events */

/* Exit codes: the contract with CI gates. */
enum ls_exit {
	LS_EXIT_PASS = 0,
	LS_EXIT_WARN = 1,
	LS_EXIT_FAIL = 2,
	LS_EXIT_ERROR = 3,
};

/* util.c */
struct ls_cpuset {
	uint64_t bits[LS_MAX_CPUS / 64];
};
void	 ls_cpuset_zero(struct ls_cpuset *s);
void	 ls_cpuset_set(struct ls_cpuset *s, int cpu);
bool	 ls_cpuset_isset(const struct ls_cpuset *s, int cpu);
int	 ls_cpuset_count(const struct ls_cpuset *s);
bool	 ls_cpuset_subset(const struct ls_cpuset *a, const struct ls_cpuset *b);
int	 ls_cpulist_parse(const char *s, struct ls_cpuset *set, bool allow_empty,
	    char *err, size_t errlen);
char	*ls_cpulist_format(const struct ls_cpuset *s);
char	*ls_cpuset_hexmask(const struct ls_cpuset *s);
int	 ls_read_cpulist_file(const char *path, struct ls_cpuset *set);
int	 ls_pidlist_parse(const char *s, int *pids, int *npids, char *err, size_t errlen);
int	 ls_parse_duration_ns(const char *s, uint64_t *ns, char *err, size_t errlen);
char	*ls_read_file(const char *path, size_t *len);
const char *ls_comm(char *buf, const char *comm, size_t len);
bool	 ls_list_has(const char *list, const char *name);
void	*ls_grow(void *arr, int n, size_t size);
/* the allocation policy (util.c): out of memory reports and exits 3, never NULL */
__attribute__((noreturn)) void ls_oom(void);
void	*ls_xmalloc(size_t n);
void	*ls_xcalloc(size_t n, size_t size);
void	*ls_xrealloc(void *p, size_t n);
char	*ls_xstrdup(const char *s);
char	*ls_xstrndup(const char *s, size_t n);
int	 ls_edit_distance(const char *a, const char *b);
char	*ls_housekeeping(const struct ls_cpuset *online, const struct ls_cpuset *monitored);
int	 ls_read_u64_file(const char *path, uint64_t *v);
bool	 ls_process_running(const char *comm);
void	 ls_fmt_ns(char *buf, size_t len, double ns, bool ascii);
void	 ls_fmt_usd(char *buf, size_t len, double usd);
void	 ls_fmt_count(char *buf, size_t len, uint64_t v);
uint64_t ls_now_ns(int clock);
char	*ls_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char	*ls_strdup_printable(const char *s);
void	 ls_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 ls_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 ls_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int ls_verbose;

/* hist.c: user-side view of the log-linear histogram in probes/ls_hist.h */
#define LS_NPCT 6
extern const double ls_pct_values[LS_NPCT];
extern const char *const ls_pct_keys[LS_NPCT];	/* "p50" ... "p99_999" */
extern const char *const ls_pct_labels[LS_NPCT];	/* "P50" ... "P99.999" */
struct ls_summary {
	uint64_t count, min, max;
	double	 mean;
	double	 pct[LS_NPCT];
	bool	 pct_valid[LS_NPCT];
	double	 above_budget;	/* share of samples above the budget summarized with (0: none) */
};
uint64_t ls_hist_bucket_low(unsigned idx);
uint64_t ls_hist_bucket_high(unsigned idx);
void	 ls_hist_merge(struct ls_hist *dst, const struct ls_hist *src);
uint64_t ls_pct_min_samples(double p);
void	 ls_hist_summarize(const struct ls_hist *h, uint64_t budget_ns, struct ls_summary *s);

/* report.c: the neutral report model filled by modules and read by renderers */
enum ls_level {
	LS_PASS,
	LS_WARN,
	LS_FAIL,
	LS_NOT_MEASURED,
};
const char *ls_level_name(enum ls_level l);	/* "pass", "warn", ... */

enum ls_vtype { LS_V_NULL, LS_V_UINT, LS_V_DOUBLE, LS_V_STR, LS_V_BOOL, LS_V_JSON };
enum ls_vfmt { LS_F_PLAIN, LS_F_COUNT, LS_F_NS, LS_F_PERCENT, LS_F_HEX, LS_F_USD };
struct ls_value {
	enum ls_vtype	 type;
	enum ls_vfmt	 fmt;
	union {
		uint64_t u;
		double	 d;
		char	*s;
		bool	 b;
	};
};
struct ls_value ls_v_null(void);
struct ls_value ls_v_uint(uint64_t u, enum ls_vfmt f);
struct ls_value ls_v_double(double d, enum ls_vfmt f);
struct ls_value ls_v_str(const char *s);
struct ls_value ls_v_bool(bool b);
struct ls_value ls_v_json(const char *json);	/* embedded as is in JSON; text shows "-" */
void	 ls_value_text(const struct ls_value *v, bool ascii, char *buf, size_t len);

struct ls_metric {
	char		*key;	/* JSON key; NULL: text only */
	char		*label;	/* text label; NULL: JSON only */
	struct ls_value	 v;
};
struct ls_histo {
	char		*key;
	char		*label;
	struct ls_summary s;
	struct ls_hist	*dist;	/* its buckets (JSON "buckets", --baseline); NULL: none */
};
struct ls_column {
	char		*key;	/* dotted keys nest in JSON: "victim.comm"; NULL: text only */
	char		*label;	/* NULL: JSON only */
	int		 width;
};
struct ls_table {
	char		*key;
	char		*title;
	int		 ncols;
	struct ls_column *cols;
	int		 nrows;
	struct ls_value	*cells;	/* nrows * ncols */
	int		 max_text_rows;	/* text shows at most this many; JSON all */
};
struct ls_finding {
	enum ls_level	 level;
	char		*message;
	char		*recommendation;
};
struct ls_section {
	char		*name;	/* "isolation": JSON key */
	char		*title;	/* "ISOLATION VERIFIER" */
	enum ls_level	 verdict;
	int		 nmetrics, nhistos, ntables, nfindings, nnotes;
	struct ls_metric *metrics;
	struct ls_histo	*histos;
	struct ls_table	**tables;	/* pointers stay valid as tables are added */
	struct ls_finding *findings;
	char		**notes;	/* signals not measured, caveats */
	struct ls_profile *profile;	/* stacks, for the profile formats (wallclock) */
};
struct ls_overhead {
	bool	 available;
	char	*why_not;
	bool	 sampled;	/* counted in windows, scaled to the run */
	double	 fraction;	/* of the run the statistics were on, 0..1 */
	uint64_t run_time_ns, run_cnt;	/* over the whole run (estimates when sampled) */
	double	 mean_ns, share;	/* share of monitored CPU time, 0..1 */
	int	 nprogs;
	unsigned switches;	/* times the statistics were switched on or off during the run */
};
/* targets.c: the --pid processes, watched for their exit */
struct ls_target {
	int			 pid;
	unsigned long long	 start;	/* /proc/PID/stat starttime; 0: gone at init */
	double			 exited_s;	/* since the run started; < 0: still running */
	bool			 before_start;	/* exited before tracing started */
};
struct ls_targets {
	int			 n, nexited;
	struct ls_target	 t[LS_MAX_PIDS];
};
struct ls_run;
void	 ls_targets_init(struct ls_targets *t, const int *pids, int n);
bool	 ls_targets_check(struct ls_targets *t, double now_s);
bool	 ls_targets_gone_before(const struct ls_targets *t);
struct ls_section;
void	 ls_targets_notes(const struct ls_targets *t, struct ls_section *s);
bool	 ls_target_exited(const struct ls_run *r, int pid);

struct ls_report {
	const char	*tool_version;
	char		*kernel;
	char		*hostname, *boot_id;
	char		*cmdline;	/* the kernel's command line; NULL: unreadable */
	int		 nr_cpus;
	char		*isolated_cpus, *nohz_full_cpus;
	char		*started_at;	/* ISO 8601 wall clock */
	double		 duration_s;
	char		*ended_by;	/* "duration", "SIGINT", "SIGTERM" */
	char		*cpus;	/* list form */
	bool		 cpus_isolated;	/* every monitored CPU is isolated */
	int		 ncpus;
	int		*cpu_ids;
	int		 npids;
	int		*pids;
	int		 nsections;
	struct ls_section *sections;
	struct ls_overhead overhead;
	struct ls_targets targets;	/* which --pid processes exited, and when */
	uint64_t	 lost_events;
	uint64_t	 timeline_overflow;	/* trace events past the in-memory limit */
	double		 timeline_full_at_s;	/* when the first of them came, since the start */
	int		 timeline_max;	/* the events it kept */
	uint64_t	*lost_per_cpu;	/* possible CPUs entries, NULL when none lost */
	int		 nlost_cpus;
	int		 violations, warnings, exit_code;
	/* --interval: which interval this report covers (index from 1; 0: the whole run) */
	struct {
		int	 index;
		char	*start, *end;	/* ISO 8601 wall clock */
		double	 start_s;	/* since the run started */
	} interval;
	struct ls_keep	*kept;	/* a kept report's own memory (report-keep.c); NULL: the heap's */
};
struct ls_section *ls_report_add_section(struct ls_report *r, const char *name, const char *title);
void	 ls_section_metric(struct ls_section *s, const char *key, const char *label, struct ls_value v);
void	 ls_section_histo(struct ls_section *s, const char *key, const char *label,
	    const struct ls_summary *sum, const struct ls_hist *dist);
struct ls_table *ls_section_table(struct ls_section *s, const char *key, const char *title,
	    int ncols, const struct ls_column *cols);
struct ls_value *ls_table_row(struct ls_table *t);
/* a histogram summary as JSON-only table columns: key.count ... key.p99_999 */
#define LS_SUMMARY_NCOLS 10
#define LS_SUMMARY_COLUMNS(k) \
	{ k ".count", NULL, 0 }, { k ".min", NULL, 0 }, { k ".max", NULL, 0 }, \
	{ k ".mean", NULL, 0 }, { k ".p50", NULL, 0 }, { k ".p90", NULL, 0 }, \
	{ k ".p99", NULL, 0 }, { k ".p99_9", NULL, 0 }, { k ".p99_99", NULL, 0 }, \
	{ k ".p99_999", NULL, 0 }
void	 ls_summary_cells(struct ls_value *cells, const struct ls_summary *s);
void	 ls_section_finding(struct ls_section *s, enum ls_level l, const char *rec,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 ls_section_note(struct ls_section *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ls_section_set_verdict(struct ls_section *s);
const struct ls_table *ls_section_find_table(const struct ls_section *s, const char *key);
const struct ls_value *ls_table_cell(const struct ls_table *t, int r, const char *key);
const struct ls_value *ls_section_find_metric(const struct ls_section *s, const char *key);
const struct ls_summary *ls_section_find_histo(const struct ls_section *s, const char *key);
const struct ls_hist *ls_section_find_dist(const struct ls_section *s, const char *key);
void	 ls_report_summarize(struct ls_report *r);
void	 ls_report_free(struct ls_report *r);

/* report-keep.c: --interval's run so far, kept off the heap until the next interval */
struct ls_keep;
void	 ls_report_keep(struct ls_report *dst, const struct ls_report *src);
void	 ls_keep_free(struct ls_keep *k);

/* profile.c: stacks and the wall-clock time in each, per thread */
/* a file mapped executable in a profiled process: pprof's mapping */
struct ls_pmap {
	char		*path;
	uint64_t	 start, limit, offset;	/* in the process; offset in the file */
	char		 build_id[41];		/* hex, "" when the file has none */
	bool		 main;			/* the process's own executable */
};
/* where a frame's code is: an address in a mapping (map -1: kernel or unknown) */
struct ls_ploc {
	int		 map;
	uint64_t	 addr;
};
/*
 * Stacks merge by frame names (the flame graphs' view); each distinct set of
 * addresses under one merged stack is kept apart, for pprof's line views.
 */
struct ls_pvariant {
	struct ls_ploc	*locs;		/* as the frames, root first */
	uint64_t	 ns;
};
struct ls_psample {
	int		*frames;	/* frame name indices, root first; [0] is the state marker */
	int		 nframes;
	bool		 running;	/* on CPU (sampled) rather than blocked */
	uint64_t	 ns;		/* wall-clock time */
	uint64_t	 count;		/* samples or blocks */
	int		 nvariants;	/* of ns, the part known address by address */
	struct ls_pvariant *variants;
};
struct ls_pthread {
	uint32_t	 tid, pid;
	char		 comm[17];
	uint64_t	 on_ns, off_ns;
	int		 nsamples;
	struct ls_psample *samples;
};
struct ls_profile {
	uint64_t	 period_ns;	/* one on-CPU sample */
	uint64_t	 start_real_ns;	/* wall clock at the start of the run */
	uint64_t	 duration_ns;
	int		 nframes;
	char		**frames;	/* interned frame names */
	int		 nthreads;
	struct ls_pthread *threads;
	int		*htab, hcap;	/* name -> index */
	bool		 no_thread_root;	/* folded: stacks without the "comm-tid" root */
	const char	*unit;	/* of the values: NULL for nanoseconds, "none" for cents */
	int		 nmaps;
	struct ls_pmap	*maps;
};
struct ls_profile *ls_profile_new(uint64_t period_ns);
int	 ls_profile_frame(struct ls_profile *p, const char *name);
struct ls_pthread *ls_profile_thread(struct ls_profile *p, uint32_t tid, uint32_t pid, const char *comm);
void	 ls_profile_add(struct ls_pthread *t, const int *frames, int n, uint64_t ns, uint64_t count,
	    bool running);
void	 ls_profile_add_at(struct ls_pthread *t, const int *frames, const struct ls_ploc *locs, int n,
	    uint64_t ns, uint64_t count, bool running);
int	 ls_profile_map(struct ls_profile *p, const char *path, uint64_t start, uint64_t limit,
	    uint64_t offset, bool main);
void	 ls_profile_sort(struct ls_profile *p);
void	 ls_profile_free(struct ls_profile *p);

/* render-profile.c: the profile as flame-graph tools read it */
int	 ls_render_folded(FILE *f, const struct ls_profile *p);
int	 ls_render_speedscope(FILE *f, const struct ls_profile *p);
int	 ls_render_pprof(FILE *f, const struct ls_profile *p);
struct json_t;
void	 ls_profile_trace_events(struct json_t *events, const struct ls_profile *p, uint32_t pid_base);

/* timeline.c: events at or above --trace-threshold, for Perfetto and the alpha flame graph */
/*
 * The timeline keeps at most LS_TIMELINE_MAX events in memory (about 90 MiB
 * at ~88 bytes each: names are interned, not copied); later ones are
 * counted as timeline_overflow in the file and the report. The writer
 * streams, so the trace's size does not add to the memory.
 */
#define LS_TIMELINE_MAX	(1 << 20)
struct ls_tevent {
	const char	*module;	/* the module's name (static) */
	const char	*kind;		/* "waiting for CPU", "softirq", "nanosleep", "reclaim"... */
	const char	*culprit;	/* who or what: a task's name, "softirq:NET_RX", a device */
	const char	*comm;		/* the victim */
	uint32_t	 cpu, tid, pid;
	uint32_t	 waker;		/* who woke the victim (a flow arrow), 0: none */
	uint64_t	 start, dur;	/* CLOCK_MONOTONIC ns */
	uint64_t	 stolen;	/* of dur, the delay the thread did not ask for: priced */
	const char	*waker_comm;
	bool		 instant;	/* a point in time (a migration), not a slice */
	bool		 running;	/* the thread running: drawn, not stolen time (stolen 0) */
};
struct ls_tcounter {
	char		 name[48];	/* "page faults per second" */
	uint64_t	 ts;		/* CLOCK_MONOTONIC ns */
	double		 value;
};
struct ls_strings;
struct ls_timeline {
	bool		 on;
	uint64_t	 threshold_ns;
	int		 max;	/* events kept in memory: LS_TIMELINE_MAX, or less (for tests) */
	int		 n, cap;
	struct ls_tevent *ev;
	int		 ncounters;
	struct ls_tcounter *counters;	/* series a module measured (page faults per second) */
	uint64_t	 dropped;	/* past LS_TIMELINE_MAX in memory */
	uint64_t	 full_at;	/* CLOCK_MONOTONIC ns of the first one dropped */
	uint64_t	 lost;		/* never reached user space (the run's lost_events) */
	struct ls_strings *names;	/* interned kinds, culprits and task names */
};
struct ls_probe;
struct ls_run;
uint64_t ls_event_floor(const struct ls_probe *p, uint64_t worst_floor);
const char *ls_timeline_intern(struct ls_timeline *t, const char *s, size_t max);
struct ls_tevent *ls_timeline_add(struct ls_probe *p, const char *kind, const char *culprit,
	    uint64_t start, uint64_t dur, uint32_t cpu, uint32_t tid, uint32_t pid, const char *comm);
void	 ls_timeline_instant(struct ls_probe *p, const char *kind, const char *culprit, uint64_t ts,
	    uint32_t cpu, uint32_t tid, uint32_t pid, const char *comm);
void	 ls_timeline_counter(struct ls_probe *p, const char *name, uint64_t ts, double value);
void	 ls_timeline_sort(struct ls_timeline *t);
void	 ls_timeline_free(struct ls_timeline *t);
uint64_t ls_money_cents(uint64_t dur_ns, double notional, double bps_per_us);
int	 ls_render_timeline(FILE *f, struct ls_timeline *t, const struct ls_run *r,
	    const struct ls_profile *pf);
struct ls_profile *ls_timeline_alpha(const struct ls_timeline *t, const struct ls_run *r);

/* jitter.c: L = V x F x P(J) from the run's distributions, and the bill of health */
double	 ls_jitter_tax(double volume, double slippage, const double *p, int n, double *pj, int *dominant);
void	 ls_jitter_section(struct ls_report *rep, const struct ls_run *run);
int	 ls_bill_of_health(const char *path, const struct ls_report *rep, const struct ls_run *r,
	    char *err, size_t errlen);

/* render-box.c, render-json.c, render-junit.c */
struct ls_render_opts {
	bool	 color;
	bool	 ascii;
	int	 width;	/* the box's columns; 0: 78 */
};
void	 ls_render_box(FILE *f, const struct ls_report *r, const struct ls_render_opts *o);
int	 ls_render_json(FILE *f, const struct ls_report *r);
int	 ls_render_json_line(FILE *f, const struct ls_report *r);
#define LS_JSON_REAL_DIGITS 6	/* significant digits of the JSON report's fractional numbers */
struct json_t *ls_report_json(const struct ls_report *r);
int	 ls_render_junit(FILE *f, const struct ls_report *r, const char *box_text);

/* budget.c: --budget FILE, limits on the JSON report's values, judged like a module */
struct ls_budget_check {
	char	*key;		/* a path in the JSON report: "irq.softirqs[vector=NET_RX].max_ns" */
	bool	 has_max, has_min;
	double	 max, min;
	bool	 duration;	/* a limit was given with a unit: the value is in ns */
	char	 limit[64];	/* as the file says it: "max 50us" */
};
struct ls_budget {
	char	*path;
	int	 n;
	struct ls_budget_check *checks;
};
int	 ls_budget_load(const char *path, struct ls_budget *b, char *err, size_t errlen);
void	 ls_budget_section(struct ls_report *rep, const struct ls_budget *b);
void	 ls_budget_free(struct ls_budget *b);
struct json_t;
struct json_t *ls_cpulist_json(const char *list);
struct json_t *ls_json_file(const char *opt, const char *path, size_t flags, char *err,
	    size_t errlen);

/* baseline.c: --baseline OLD.json, this run against a saved report */
struct ls_opts;
struct ls_baseline {
	char		*path;
	struct json_t	*doc;
	bool		 fail;	/* --fail-on-regression: a regression is a violation */
};
int	 ls_baseline_load(const char *path, const struct ls_opts *o, struct ls_baseline *b,
	    char *err, size_t errlen);
void	 ls_baseline_section(struct ls_report *rep, const struct ls_baseline *b);
void	 ls_baseline_free(struct ls_baseline *b);

/* audit.c: --audit, the settings for the monitored CPUs */
void	 ls_audit_section(struct ls_report *rep, const struct ls_cpuset *mon,
	    const struct ls_cpuset *online);
void	 ls_audit_evidence(struct ls_report *rep, const char *id, const char *text);
/* mod-noise.c: after a noise section, the audit with the run's evidence */
void	 ls_noise_evidence(struct ls_report *rep, const struct ls_run *r);

/* render-html.c: -f html, one self-contained page */
struct ls_html_input {
	const struct ls_budget	 *budget;	/* its limits drawn on the histograms; NULL: none */
	const struct ls_timeline *tl;		/* the trace's events; NULL or off: none */
	const struct ls_profile	 *alpha;	/* the interference flame graph built from tl */
	uint64_t		  mono_start_ns;	/* the run's start on tl's clock */
};
int	 ls_render_html(FILE *f, const struct ls_report *r, const struct ls_html_input *in);

/* render-prometheus.c: -f prometheus, the text exposition format */
int	 ls_render_prometheus(FILE *f, const struct ls_report *r);

/* interval.c: --interval, each interval's report from two of the run so far */
void	 ls_report_interval(struct ls_report *iv, const struct ls_report *now,
	    const struct ls_report *before, const struct ls_run *r);
void	 ls_render_interval(FILE *f, const struct ls_report *iv, bool ascii);

/* options.c */
enum ls_format {
	LS_FMT_TEXT, LS_FMT_JSON, LS_FMT_JUNIT, LS_FMT_PROMETHEUS, LS_FMT_HTML,
	LS_FMT_FOLDED, LS_FMT_SPEEDSCOPE, LS_FMT_CHROME, LS_FMT_PPROF,	/* profiles: wallclock */
};
/*
 * --self-cost: AUTO (the default) counts every event when the kernel's BPF
 * statistics are already on and leaves them alone otherwise: switching them
 * patches kernel code, which interrupts every CPU
 */
enum ls_self_cost { LS_SELF_COST_AUTO, LS_SELF_COST_SAMPLED, LS_SELF_COST_FULL, LS_SELF_COST_OFF };
struct ls_threshold_override {
	char	*key;
	char	*value;
};
struct ls_opts {
	char		*modules[LS_MAX_MODULES];
	int		 nmodules;
	struct ls_cpuset cpus;
	bool		 cpus_given;
	int		 pids[LS_MAX_PIDS];
	int		 npids;
	double		 duration;	/* 0: until a signal (--interval without --count) */
	bool		 duration_given;
	double		 interval;	/* --interval: seconds, 0: one report at the end */
	unsigned	 count;		/* --count: intervals, 0: until --duration or a signal */
	enum ls_format	 format;
	bool		 format_given;
	char		*output;
	char		*probes_dir;
	char		*kernel_headers;
	char		*cache_dir;	/* --cache-dir (NULL: $LATENCYSCOPE_CACHE_DIR or the default) */
	bool		 no_cache;
	void		*modopts[LS_MAX_MODULES];	/* each module's own options, by ls_modules index */
	const char	*modopt_given[LS_MAX_MODULES];	/* the last of them given, NULL: none */
	uint64_t	 trace_threshold_ns;	/* timeline: shorter events are only aggregated */
	unsigned	 trace_buffer_kib;	/* ring buffer per module, 0: sized from the run */
	double		 notional, bps_per_us;	/* alpha flame graph: money per us of delay */
	double		 volume, slippage;	/* jitter tax: USD per day, fraction lost per late event */
	unsigned	 trading_days;
	uint64_t	 latency_budget_ns;
	char		*bill_of_health;	/* where to write it (NULL: not asked for) */
	char		*budget;	/* --budget FILE (NULL: none) */
	char		*baseline;	/* --baseline FILE (NULL: none) */
	bool		 fail_on_regression;
	enum ls_self_cost self_cost;	/* how the probes' own cost is measured */
	struct ls_threshold_override thresholds[32];
	int		 nthresholds;
	bool		 no_color, ascii;
	bool		 quiet;	/* no progress lines on stderr */
	int		 width;	/* --width: the box's columns, 0: the terminal's or 78 */
	int		 verbose;
	bool		 help, version, list_modules;
	bool		 audit;		/* --audit: the settings only, no tracing */
};
int	 ls_opts_parse(struct ls_opts *o, int argc, char **argv, char *err, size_t errlen);
void	 ls_opts_usage(FILE *f);
void	 ls_opts_free(struct ls_opts *o);
void	 ls_opts_warn_unused(const struct ls_opts *o);
struct ls_module_opt;
void	 ls_module_opt_help(FILE *f, const struct ls_module_opt *mo);

/* module.c */
struct ls_probe;
struct ls_run;
enum ls_tunit { LS_T_NS, LS_T_COUNT };
struct ls_threshold_def {
	const char	*key;	/* "isolation.runq_p99_99" */
	enum ls_tunit	 unit;
	uint64_t	 def;
	const char	*help;
};
struct ls_thresholds {
	int	 n;
	struct {
		const char *key;
		uint64_t    value;
	} v[64];
};
uint64_t ls_threshold(const struct ls_thresholds *t, const char *key);

/*
 * ls_map_layout - a map the front end reads, with the key and value sizes
 * of the probe header it was built with; a probe edited since (a header's
 * struct changed) is refused before it runs, not misread after
 */
struct ls_map_layout {
	const char	*name;
	size_t		 key_size, value_size;
};
#define LS_MAP(name, key, value) { (name), sizeof(key), sizeof(value) }

/*
 * ls_module_opt - a module's own command-line option, --NAME ARG: options.c
 * hands the value to parse() with the module's options struct (opts_size
 * bytes, defaults from opts_init), which the module reads with
 * ls_module_opts(); --help and --list-modules print help
 */
struct ls_module_opt {
	const char	*name;	/* "interface" for --interface */
	const char	*arg;	/* "LIST" */
	const char	*help;	/* lines of at most 52 columns joined by "\n", the default included */
	int		(*parse)(void *opts, const char *arg, char *err, size_t errlen);
};

/*
 * ls_interval_table - a table of a module's section as --interval reports
 * it: the rows named by keys, each with the difference of its running
 * totals over the interval (rows without any are left out) and the maxima
 * the interval raised; every other column is left out
 */
struct ls_interval_table {
	const char	*table;		/* "per_cpu" */
	const char	*keys;		/* "cpu": comma-separated column keys */
	const char	*totals;	/* "switches,voluntary" */
	const char	*maxima;	/* "max_ns": kept where this interval raised it */
};
/*
 * ls_interval_spec - what of a section is per interval: the metrics that
 * are running totals and the tables above (the first is the compact
 * per-interval text table). Distributions (histograms with buckets) and
 * the worst list always are; nothing else is.
 */
struct ls_interval_spec {
	const char	*totals;	/* metric keys, comma-separated */
	const struct ls_interval_table *tables;	/* NULL-table terminated */
	const struct ls_prune_map *prune;	/* NULL-name terminated; NULL: none */
};
/*
 * ls_prune_map - a map with an entry per thread or process, its id (a u32)
 * at off in the key (a hash map) or in the value (an array: the slot is
 * zeroed). With --interval, once an interval is reported, the entries of
 * ids that have exited are removed (ls_probe_prune): their last counts were
 * in that report, and a run of hours lists the threads alive, rather than
 * every one since it began until the map is full and new ones go unseen.
 */
struct ls_prune_map {
	const char	*name;
	size_t		 off;
	bool		 in_value;
};

struct ls_module_ops {
	const char	*name;	/* "isolation" -> probes/isolation.c */
	const char	*title;	/* "ISOLATION VERIFIER" */
	const char	*summary;	/* one line for --list-modules */
	bool		 on_request;	/* not in the default set: only with --module */
	const struct ls_threshold_def *thresholds;	/* NULL-key terminated */
	const struct ls_map_layout *maps;	/* the maps collect() reads; NULL-name terminated */
	const struct ls_module_opt *options;	/* its own options; NULL-name terminated */
	size_t		 opts_size;	/* the struct they are parsed into */
	void	(*opts_init)(void *opts);	/* its defaults */
	void	(*opts_free)(void *opts);	/* what parse() allocated */
	bool		 profiles;	/* records stacks: the profile formats and pprof write them */
	/* before any probe compiles (seconds each): refuse bad input early; fill err */
	int	(*check)(const struct ls_run *r, char *err, size_t errlen);
	/* before compiling: allocate p->priv, add -D flags with ls_probe_cflag(); on failure fill err */
	int	(*prepare)(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen);
	/* after loading, before attaching: seed maps (p->priv if prepare did not); on failure fill err */
	int	(*setup)(struct ls_probe *p, const struct ls_run *r, char *err, size_t errlen);
	/*
	 * The event stream (a probe's ls_emit()): records of rec_size bytes. The
	 * engine drops short ones, gives each to record() (its timeline entry,
	 * anything the module counts; false: not ranked) and keeps the worst_n
	 * with the largest rec_key() in p->worst, largest first; rec_same()
	 * (optional) says two records are one event, whose larger one is kept.
	 * Once the list is full the probe's floor_map (if any) is raised so the
	 * kernel sends only what can still rank (or what the timeline needs).
	 */
	size_t		 rec_size;
	bool	(*record)(struct ls_probe *p, const void *rec);
	uint64_t (*rec_key)(const void *rec);
	bool	(*rec_same)(const void *a, const void *b);
	int		 worst_n;
	const char	*floor_map;
	/* called about every 100 ms while running */
	void	(*tick)(struct ls_probe *p, const struct ls_run *r);
	/*
	 * right before the gates open (open) and right after they close: read
	 * a kernel counter over the traced window, to say what the tracepoints
	 * did not deliver
	 */
	void	(*window)(struct ls_probe *p, const struct ls_run *r, bool open);
	/* what one interval's report keeps of the section (interval.c); NULL: no --interval */
	const struct ls_interval_spec *interval;
	/* the events the probe counted so far (the progress line); NULL: none counted */
	uint64_t (*events)(struct ls_probe *p);
	int	(*collect)(struct ls_probe *p, const struct ls_run *r, struct ls_section *out);
	void	(*judge)(struct ls_section *s, const struct ls_run *r);
	void	(*cleanup)(struct ls_probe *p);	/* free what priv holds; the engine frees priv */
};
extern const struct ls_module_ops *const ls_modules[];
/* each in its src/mod-<name>.c; the registry (module.c) lists them in report order */
extern const struct ls_module_ops ls_mod_isolation, ls_mod_irq, ls_mod_syscall, ls_mod_memory,
    ls_mod_network, ls_mod_wallclock, ls_mod_noise;
const struct ls_module_ops *ls_module_find(const char *name);
int	 ls_module_index(const struct ls_module_ops *m);
const void *ls_module_opts(const struct ls_opts *o, const struct ls_module_ops *m);
bool	 ls_module_selected(const struct ls_opts *o, const struct ls_module_ops *m);
const struct ls_module_ops *ls_profiling_module(const struct ls_opts *o);
int	 ls_thresholds_init(struct ls_thresholds *t, const struct ls_opts *o, char *err, size_t errlen);

/* preflight.c */
struct ls_host {
	char		 kernel[128];
	char		 hostname[65];	/* uname's nodename */
	char		 boot_id[40];	/* /proc/sys/kernel/random/boot_id, "" when unknown */
	bool		 preempt_rt;	/* IRQ handlers and softirqs run in threads */
	bool		 nohz_full_capable;	/* built with CONFIG_NO_HZ_FULL */
	int		 nr_possible, nr_online;
	struct ls_cpuset online, isolated, nohz_full;
	uint64_t	 pid_max;
	char		*tracefs;	/* "/sys/kernel/tracing" */
	char		*headers;	/* dir given to libbcc, NULL: libbcc's own default */
	char		*headers_note;	/* warning printed once, kept for the report */
};
int	 ls_host_probe(struct ls_host *h);
int	 ls_preflight_privileges(char *err, size_t errlen);
int	 ls_preflight_cpus(const struct ls_host *h, const struct ls_cpuset *cpus, char *err, size_t errlen);
int	 ls_preflight_pids(int *pids, int npids, char *err, size_t errlen);
int	 ls_preflight_interfaces(char *const *names, int n, char *err, size_t errlen);
int	 ls_preflight_tracefs(struct ls_host *h, char *err, size_t errlen);
int	 ls_preflight_headers(struct ls_host *h, const char *given, char *err, size_t errlen);
int	 ls_headers_cmp(const char *release, const char *a, const char *b);
bool	 ls_tracepoint_exists(const struct ls_host *h, const char *cat, const char *ev);
bool	 ls_tracepoint_category(const struct ls_host *h, const char *ev, char *cat, size_t len);
void	 ls_host_free(struct ls_host *h);

/* trust.c: as root, probe source only from root's files in the probes directory */
int	 ls_trust_probes_dir(char **dir, char *err, size_t errlen);
char	*ls_cache_dir(const struct ls_opts *o);	/* probe-cache.c */
int	 ls_trust_probe_file(const char *dir, const char *path, char *err, size_t errlen);
int	 ls_trust_include(const char *line, const char *file, int lineno, char *err, size_t errlen);

/* output.c: files written at the end of the run, never through a link */
struct ls_output {
	char	*path;
	char	*tmp;	/* the temporary renamed over path; NULL for a device or FIFO */
	FILE	*f;
};
int	 ls_output_check(const char *path, const char *opt, char *err, size_t errlen);
bool	 ls_output_same(const char *a, const char *b);
FILE	*ls_output_open(struct ls_output *o, const char *path, char *err, size_t errlen);
int	 ls_output_commit(struct ls_output *o, char *err, size_t errlen);
void	 ls_output_abort(struct ls_output *o);

/* probe.c: one compiled, loaded and attached probe file */
struct ls_tp {
	char	 cat[64], ev[64];
	bool	 optional;
	bool	 present;
};
struct ls_prog {
	char	*fn;
	char	 cat[64], ev[64];
	int	 prog_fd;
	int	 link_fd;
	int	 swev;		/* software perf event config, -1 for a tracepoint */
	bool	 swev_kernel_only; /* ... counted in kernel mode only (exclude_user) */
	int	*cpu_fds;	/* a software event's perf events, one per monitored CPU */
	int	 ncpu_fds;
};
/* compiler flags for libbcc, as many as needed (probe-source.c) */
struct ls_cflags {
	int	 n;
	char	**v;
};
struct ls_probe {
	const struct ls_module_ops *ops;
	const struct ls_run *run;
	const struct ls_cpuset *cpus;	/* monitored CPUs (the run's) */
	char		*path;
	struct ls_obj	*obj;	/* the compiled probe's maps and code (probe.h), NULL: not loaded */
	int		 nprogs;
	struct ls_prog	*progs;
	int		 ntps;
	struct ls_tp	*tps;
	void		*ringbuf;	/* ring buffer, or */
	void		*perf;	/* per-CPU perf buffers on kernels before 5.8 */
	uint64_t	 perf_lost;
	uint64_t	 events_seen;
	void		*priv;	/* module state */
	void		*worst;	/* the worst_n records ranked so far (ops->rec_size each) */
	int		 nworst;
	void		*worst_iv;	/* --interval: the interval's (ls_probe_interval_worst) */
	int		 nworst_iv;
	uint64_t	 floor;	/* the last value written to ops->floor_map (0: none yet) */
	uint64_t	 pruned;	/* entries of exited threads removed (ls_probe_prune) */
	uint64_t	 sample_freq;	/* cpu_clock/task_clock samples per second (prepare) */
	struct ls_cflags cflags;	/* the module's own -D flags (prepare) */
	char		*not_measured;	/* why, when the module could not run */
	struct ls_compile *compiling;	/* from ls_probe_begin to ls_probe_end */
};
int	 ls_probe_begin(struct ls_probe *p, const struct ls_module_ops *ops, const struct ls_run *r,
	    char *err, size_t errlen);
int	 ls_probe_end(struct ls_probe *p, char *err, size_t errlen);
int	 ls_probe_attach(struct ls_probe *p, char *err, size_t errlen);
int	 ls_probe_poll(struct ls_probe *p, int timeout_ms);
void	 ls_probe_interval_worst(struct ls_probe *p, bool on);
int	 ls_probe_table_fd(const struct ls_probe *p, const char *name);
uint32_t ls_probe_table_max_entries(const struct ls_probe *p, const char *name);
int	 ls_probe_read_percpu(const struct ls_probe *p, const char *table, uint32_t key,
	    void *values, size_t value_size);
int	 ls_probe_sum_percpu(const struct ls_probe *p, const char *table, uint32_t key, void *out,
	    size_t value_size);
void	*ls_probe_read_hash(const struct ls_probe *p, const char *name, size_t entsize,
	    size_t voff, int *n);
uint64_t ls_probe_lost(const struct ls_probe *p, uint64_t *per_cpu);
uint64_t ls_probe_prune(struct ls_probe *p);
/* ls_prog_stats - what the kernel counts for a probe's programs (ls_probe_stats) */
struct ls_prog_stats {
	uint64_t run_time_ns, run_cnt;	/* with the BPF statistics on */
	uint64_t missed;		/* runs skipped: another BPF program ran on the CPU */
	int	 nprogs;		/* programs whose counts were read */
};
void	 ls_probe_stats(const struct ls_probe *p, struct ls_prog_stats *st);
int	 ls_probe_gate(struct ls_probe *p, uint32_t on);
void	 ls_probe_cflag(struct ls_probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t ls_probe_budget(const struct ls_probe *p);
int	 ls_probe_set_u64(struct ls_probe *p, const char *table, uint64_t v);
void	 ls_probe_detach(struct ls_probe *p);
void	 ls_probe_close(struct ls_probe *p);
int	 ls_nr_possible_cpus(void);

/* overhead.c: the probes' own cost from the kernel's BPF run-time statistics */
int	 ls_overhead_enable(enum ls_self_cost mode);
void	 ls_overhead_start(const struct ls_probe *probes, int nprobes, uint64_t now);
uint64_t ls_overhead_tick(const struct ls_probe *probes, int nprobes, uint64_t now);
void	 ls_overhead_stop(const struct ls_probe *probes, int nprobes, uint64_t now);
void	 ls_overhead_disable(void);
void	 ls_overhead_collect(const struct ls_probe *probes, int nprobes, double duration_s,
	    int ncpus, struct ls_overhead *out);

/* mod-irq.c: the affinity fix, kept pure for unit tests */
struct ls_irq_affinity {
	bool	 violation;	/* the IRQ may land on a monitored CPU */
	char	*recommendation;	/* NULL when there is nothing to do */
};
void	 ls_irq_affinity_judge(int irq, const struct ls_cpuset *affinity,
	    const struct ls_cpuset *monitored, const struct ls_cpuset *online, int managed,
	    bool irqbalance, struct ls_irq_affinity *out);

/* latencyscope.c: the run every module sees */

struct ls_run {
	const struct ls_opts	*opts;
	struct ls_host		*host;
	struct ls_thresholds	 thresholds;
	struct ls_cpuset	 cpus;	/* monitored CPUs */
	bool			 cpus_isolated;
	uint64_t		 mono_start_ns, real_start_ns;
	double			 duration_s;
	char			*probes_dir;
	char			*cache_dir;	/* compiled probes kept here, NULL: none */
	struct ls_timeline	*timeline;	/* events for the trace formats */
	struct ls_targets	*targets;	/* --pid processes and when they exited */
};
void	 ls_wallclock(const struct ls_run *r, uint64_t mono_ns, char *buf, size_t len);

#endif /* LATENCYSCOPE_H */
