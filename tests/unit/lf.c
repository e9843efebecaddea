/* lf.c: table tests for the log-format parsers, detection and level names. */
#include <stdio.h>
#include <string.h>

#include "../../common/lf.h"
#include "../../common/ts.h"
#include "t.h"

/* now = 2026-11-23T00:00:00Z, so "Jun 14" is 2026 and "Dec 31" (over a month ahead) 2025 */
static const struct lf_ctx ctx = { 1795392000LL * 1000000000LL };

/* "k=v;k=v" of the fields of r, for comparing. */
static const char *
fields(const struct lf_rec *r)
{
	static char buf[1024];
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nf && k < sizeof(buf) - 1; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%.*s=%.*s", i ? ";" : "",
		    (int)r->f[i].kn, r->f[i].k, (int)r->f[i].vn, r->f[i].v);
	return buf;
}

static const struct {
	enum lf_fmt fmt;
	const char *line;
	int ok;
	const char *time;	/* NULL: no time */
	const char *level, *raw, *msg, *fields;
} cases[] = {
	{ LF_SYSLOG, "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure", 1,
	  "2026-06-14T15:16:01.000000000Z", "", "", "authentication failure",
	  "host=combo;app=sshd(pam_unix);pid=19939" },
	{ LF_SYSLOG, "Dec 31 06:55:46 LabSZ sshd[24200]: Invalid user", 1,
	  "2025-12-31T06:55:46.000000000Z", "", "", "Invalid user", "host=LabSZ;app=sshd;pid=24200" },
	{ LF_SYSLOG, "<11>Jun  4 01:02:03 h kernel: oops", 1, "2026-06-04T01:02:03.000000000Z",
	  "error", "error", "oops", "host=h;app=kernel" },
	{ LF_SYSLOG, "Jun 14 15:16:01 kernel: no host", 0, NULL, "", "", "", "" },
	{ LF_SYSLOG, "Foo 14 15:16:01 h x: y", 0, NULL, "", "", "", "" },
	{ LF_RFC5424, "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
	  "[exampleSDID@32473 iut=\"3\"] An application event", 1, "2003-10-11T22:14:15.003000000Z",
	  "notice", "notice", "An application event",
	  "host=mymachine.example.com;app=evntslog;msgid=ID47;sd=[exampleSDID@32473 iut=\"3\"]" },
	{ LF_RFC5424, "<13>1 - - - - - -", 1, NULL, "notice", "notice", "", "" },
	{ LF_RFC5424, "<13>2 - - - - - -", 0, NULL, "", "", "", "" },
	{ LF_ACCESS, "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326 "
	  "\"http://x/\" \"Moz\"", 1, "2000-10-10T20:55:36.000000000Z", "", "", NULL,
	  "client=127.0.0.1;user=frank;method=GET;path=/a.gif;proto=HTTP/1.0;status=200;bytes=2326;"
	  "referer=http://x/;user_agent=Moz" },
	{ LF_ACCESS, "::1 - - [10/Oct/2000:13:55:36 +0000] \"-\" 400 0", 1,
	  "2000-10-10T13:55:36.000000000Z", "", "", NULL, "client=::1;status=400;bytes=0" },
	{ LF_ACCESS, "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 2000 1", 0, NULL, "", "",
	  "", "" },
	{ LF_APACHE_ERROR, "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", 1,
	  "2005-12-04T04:47:44.000000000Z", "notice", "notice", "workerEnv.init() ok", "" },
	{ LF_APACHE_ERROR, "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] "
	  "[client 72.15.99.187] File does not exist", 1, "2000-10-11T14:32:52.123456000Z", "error",
	  "error", "File does not exist", "module=core;pid=35708;tid=4328636416;client=72.15.99.187" },
	{ LF_APACHE_ERROR, "[Sun Dec 04 04:47:44 2005] [chatty] x", 0, NULL, "", "", "", "" },
	{ LF_APP, "2015-10-18 18:01:47,978 INFO [main] org.apache.X: Created", 1,
	  "2015-10-18T18:01:47.978000000Z", "info", "INFO", "Created", "thread=main;logger=org.apache.X" },
	{ LF_APP, "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1", 1,
	  "2008-11-09T20:36:15.000000000Z", "info", "INFO", "PacketResponder 1",
	  "pid=148;logger=dfs.DataNode$PacketResponder" },
	{ LF_APP, "17/06/09 20:10:40 WARN spark.SecurityManager: Changing view", 1,
	  "2017-06-09T20:10:40.000000000Z", "warn", "WARN", "Changing view",
	  "logger=spark.SecurityManager" },
	{ LF_APP, "2015-07-29 19:04:29,071 - WARN  [SendWorker:188:QCM$SendWorker@688] - Send worker", 1,
	  "2015-07-29T19:04:29.071000000Z", "warn", "WARN", "Send worker",
	  "thread=SendWorker:188:QCM$SendWorker@688" },
	{ LF_APP, "2025-05-17 04:44:04,545 - myapp - CRITICAL - disk gone", 1,
	  "2025-05-17T04:44:04.545000000Z", "fatal", "CRITICAL", "disk gone", "logger=myapp" },
	{ LF_APP, "2025-05-17 04:44:04,545 [main] SEVERE c.x.Y - bad", 1,
	  "2025-05-17T04:44:04.545000000Z", "error", "SEVERE", "bad", "thread=main;logger=c.x.Y" },
	{ LF_APP, "[2025-05-17T04:44:04Z] FINE hello", 1, "2025-05-17T04:44:04.000000000Z",
	  "debug", "FINE", "hello", "" },
	{ LF_APP, "WARNING:root:low disk", 1, NULL, "warn", "WARNING", "low disk", "logger=root" },
	{ LF_APP, "2025-05-17 nothing", 0, NULL, "", "", "", "" },
	{ LF_APP, "\tat a.b(C.java:1)", 0, NULL, "", "", "", "" },
	{ LF_ANDROID, "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezing", 1,
	  "2026-03-17T16:13:38.811000000Z", "debug", "D", "printFreezing",
	  "pid=1702;tid=2395;tag=WindowManager" },
	{ LF_ANDROID, "03-17 16:13:38.811  1702  2395 X Tag: m", 0, NULL, "", "", "", "" },
	{ LF_CBS, "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack", 1,
	  "2016-09-28T04:30:30.000000000Z", "info", "Info", "Loaded Servicing Stack", "logger=CBS" },
	{ LF_BGL, "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
	  "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected", 1,
	  "2005-06-03T15:42:50.675872000Z", "info", "INFO", "instruction cache parity error corrected",
	  "node=R02-M1-N0-C:J12-U11;type=RAS;logger=KERNEL" },
	{ LF_BGL, "KERNDTLB 1118536327 2005.06.11 R30-M0-N9-C:J16-U01 2005-06-11-17.32.07.581048 "
	  "R30-M0-N9-C:J16-U01 RAS KERNEL FATAL data TLB error interrupt", 1,
	  "2005-06-11T17:32:07.581048000Z", "fatal", "FATAL", "data TLB error interrupt",
	  "label=KERNDTLB;node=R30-M0-N9-C:J16-U01;type=RAS;logger=KERNEL" },
	{ LF_LOGFMT, "a=1 b=\"x y\" c=", 1, NULL, "", "", NULL, "a=1;b=x y;c=" },
	{ LF_LOGFMT, "a=1 loose words", 0, NULL, "", "", "", "" },
	{ LF_TEXT, "anything at all", 1, NULL, "", "", "anything at all", "" },
	{ LF_JSON, "{}", 0, NULL, "", "", "", "" },
};

static void
test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct lf_rec r;
		char tbuf[TS_BUFSZ], m[512];
		int got = lf_parse(cases[i].fmt, cases[i].line, strlen(cases[i].line), &ctx, &r);

		if (!ok(got == cases[i].ok, "%s: %s: accepted=%d", lf_name(cases[i].fmt),
		    cases[i].line, cases[i].ok) || !got)
			continue;
		if (cases[i].time) {
			ts_format(r.time, tbuf);
			is_str(r.has_time ? tbuf : "(none)", cases[i].time, "  time");
		} else
			ok(!r.has_time, "  no time");
		is_str(lf_level_name(r.lvl), cases[i].level, "  level");
		snprintf(m, sizeof(m), "%.*s", (int)r.lvln, r.lvl_raw ? r.lvl_raw : "");
		is_str(m, cases[i].raw, "  level_raw");
		if (cases[i].msg) {
			snprintf(m, sizeof(m), "%.*s", (int)r.msgn, r.msg ? r.msg : "");
			is_str(m, cases[i].msg, "  msg");
		}
		is_str(fields(&r), cases[i].fields, "  fields");
	}
}

static void
test_logfmt_pick(void)
{
	static const char line[] = "ts=2025-05-17T04:44:04.5Z level=WARNING msg=\"a \\\"b\\\"\" x=1";
	struct lf_rec r;
	char tbuf[TS_BUFSZ];

	ok(lf_parse(LF_LOGFMT, line, strlen(line), &ctx, &r) == 1, "logfmt parses");
	lf_pick(&r, NULL, NULL, NULL);
	ok(r.has_time, "logfmt: ts picked");
	ts_format(r.time, tbuf);
	is_str(tbuf, "2025-05-17T04:44:04.500000000Z", "logfmt: ts value");
	is_str(lf_level_name(r.lvl), "warn", "logfmt: level");
	ok(r.msg_quoted && r.msgn == 7, "logfmt: quoted msg");
	is_str(fields(&r), "x=1", "logfmt: picked fields removed");
	ok(lf_parse(LF_LOGFMT, "status=200 t=x", 14, &ctx, &r) == 1, "logfmt parses");
	lf_pick(&r, "t", NULL, NULL);
	ok(!r.has_time && r.lvl == LVL_NONE, "logfmt: bad time and non-level status stay");
	is_str(fields(&r), "status=200;t=x", "logfmt: fields kept");
}

static void
test_levels(void)
{
	static const struct {
		const char *w, *want;
	} lv[] = {
		{ "WARNING", "warn" }, { "ERR", "error" }, { "SEVERE", "error" },
		{ "CRIT", "fatal" }, { "critical", "fatal" }, { "EMERG", "fatal" },
		{ "ALERT", "fatal" }, { "PANIC", "fatal" }, { "FINE", "debug" },
		{ "FINEST", "trace" }, { "trace3", "trace" }, { "Notice", "notice" },
		{ "INFO", "info" }, { "dbg", "debug" }, { "FAILURE", "error" },
		{ "information", "info" }, { "infos", "" }, { "", "" }, { "warnings", "" },
	};

	for (size_t i = 0; i < sizeof(lv) / sizeof(*lv); i++)
		is_str(lf_level_name(lf_level(lv[i].w, strlen(lv[i].w))), lv[i].want,
		    "level %s", lv[i].w);
	is_str(lf_level_name(lf_level_syslog(3)), "error", "syslog severity 3");
	is_str(lf_level_name(lf_level_syslog(9)), "", "syslog severity 9");
}

static void
test_detect(void)
{
	static const struct {
		const char *sample;	/* lines separated by '\n' */
		const char *want;
		int binary;
	} d[] = {
		{ "{\"a\":1}\n{\"b\":2}\n", "json", 0 },
		{ "{\"a\":1\n", "json", 0 },
		{ "Jun 14 15:16:01 combo sshd[1]: x\nJun 14 15:16:02 combo sshd[1]: y\n", "syslog", 0 },
		{ "<13>1 2003-10-11T22:14:15Z h a - - - m\n", "rfc5424", 0 },
		{ "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1\n", "access", 0 },
		{ "[Sun Dec 04 04:47:44 2005] [error] x\n", "apache-error", 0 },
		{ "2015-10-18 18:01:47,978 INFO [main] a.B: x\n\tat x\n\tat y\n\tat z\n", "app", 0 },
		{ "03-17 16:13:38.811  1702  2395 D W: x\n", "android", 0 },
		{ "2016-09-28 04:30:30, Info                  CBS    Loaded\n", "cbs", 0 },
		{ "- 1117838570 2005.06.03 R02 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO x\n",
		  "bgl", 0 },
		{ "a=1 b=2\nc=3\n", "logfmt", 0 },
		{ "hello world\nsecond line\n", "text", 0 },
		{ "", "text", 0 },
		{ "ab\001\002\003\004cd\n", "text", 1 },
	};

	for (size_t i = 0; i < sizeof(d) / sizeof(*d); i++) {
		const char *lines[16];
		size_t lens[16], n = 0;
		int bin = -1;

		for (const char *p = d[i].sample, *e; *p && n < 16; p = e + 1) {
			e = strchr(p, '\n');
			lines[n] = p;
			lens[n++] = (size_t)(e - p);
		}
		is_str(lf_name(lf_detect(lines, lens, n, &ctx, &bin)), d[i].want, "detect %zu", i);
		ok(bin == d[i].binary, "detect %zu: binary=%d", i, d[i].binary);
	}
	ok(lf_detect(NULL, NULL, 0, &ctx, &(int){ 0 }) == LF_TEXT, "detect nothing");
	ok(lf_continuation("\tat x", 5) && lf_continuation("Caused by: y", 12) &&
	    !lf_continuation("x", 1) && !lf_continuation("", 0), "continuation lines");
	ok(lf_lookup("nginx") == LF_ACCESS && lf_lookup("json") == LF_JSON &&
	    lf_lookup("nope") == LF_UNKNOWN && !strcmp(lf_name(LF_APACHE_ERROR), "apache-error"),
	    "format names");
}

int
main(void)
{
	test_cases();
	test_logfmt_pick();
	test_levels();
	test_detect();
	return t_done();
}
