#!/usr/bin/env bats
# logcat.bats: formats, JSON shapes, streams, multiline, bad input, exit codes.
bats_require_minimum_version 1.5.0
load helper

L=$BATS_TEST_DIRNAME/fixtures/logcat

@test "the two real JSON shapes come out exactly right" {
	run -0 --separate-stderr logcat "$L/shapes.jsonl"
	printf '%s\n' "$output" > actual
	expect_same "$L/shapes.expected" actual
	[ -z "$stderr" ]
}

@test "formats by detection: access, rfc5424, cbs, logfmt, app with stack traces" {
	local f
	for f in access rfc5424 cbs logfmt app; do
		run -0 --separate-stderr logcat "$L/$f.log"
		printf '%s\n' "$output" > "$f.actual"
		expect_same "$L/$f.expected" "$f.actual"
	done
}

@test "--format forces a format; unknown names are a usage error" {
	run -0 logcat --format text "$L/cbs.log"
	[ "${lines[0]}" = '{"_msg":"2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505"}' ]
	run -2 --separate-stderr logcat --format nosuch "$L/cbs.log"
	[[ $stderr == *"unknown format 'nosuch'"* ]]
	[[ $stderr == *"usage: logcat"* ]]
}

@test "android logcat: pid, tid, tag, one-letter level" {
	run -0 logcat "$L/android.log"
	[[ ${lines[1]} == *'"_msg":"acquire lock=233570404","level":"error","level_raw":"E","pid":"1702","tid":"8671","tag":"PowerManagerService"}' ]]
}

@test "JSON: --time-field, --msg-field, --level-field pick the fields" {
	printf '{"when":"2025-05-17 04:44:04","text":"hi","lvl":"CRIT","msg":"other","time":"x"}\n' > in.jsonl
	run -0 logcat --time-field when --msg-field text --level-field lvl in.jsonl
	[ "$output" = '{"_time":"2025-05-17T04:44:04.000000000Z","_msg":"hi","level":"fatal","lvl":"CRIT","msg":"other","time":"x"}' ]
	# a "level" field itself is normalised, its text kept as level_raw
	printf '{"level":"WARNING","severity":"x"}\n' > in.jsonl
	run -0 logcat in.jsonl
	[ "$output" = '{"level":"warn","level_raw":"WARNING","severity":"x"}' ]
}

@test "JSON: unix times in s, ms, us, ns and a _time that is already there" {
	printf '{"ts":1747457048}\n{"ts":1747457048123}\n{"ts":"1747457048123456"}\n{"ts":1747457048123456789}\n{"_time":"2025-05-17T06:44:08+02:00"}\n' > in.jsonl
	run -0 logcat in.jsonl
	[ "${lines[0]}" = '{"_time":"2025-05-17T04:44:08.000000000Z"}' ]
	[ "${lines[1]}" = '{"_time":"2025-05-17T04:44:08.123000000Z"}' ]
	[ "${lines[2]}" = '{"_time":"2025-05-17T04:44:08.123456000Z"}' ]
	[ "${lines[3]}" = '{"_time":"2025-05-17T04:44:08.123456789Z"}' ]
	[ "${lines[4]}" = '{"_time":"2025-05-17T04:44:08.000000000Z"}' ]
}

@test "JSON: a status that is no level stays a field" {
	printf '{"status":"200","msg":"x"}\n' > in.jsonl
	run -0 logcat in.jsonl
	[ "$output" = '{"_msg":"x","status":"200"}' ]
}

@test "--stream and --stream-fields write a sorted, escaped _stream; input _stream is kept" {
	printf '{"msg":"a","node":"n\\"1","app":"x"}\n{"_stream":"{k=\\"v\\"}","msg":"b"}\n' > in.jsonl
	run -0 logcat --stream run=r1 --stream zone=z --stream-fields node,app,absent in.jsonl
	[ "${lines[0]}" = '{"_stream":"{app=\"x\",node=\"n\\\"1\",run=\"r1\",zone=\"z\"}","_msg":"a","node":"n\"1","app":"x"}' ]
	[ "${lines[1]}" = '{"_stream":"{k=\"v\"}","_msg":"b"}' ]
	run -0 logcat --stream b=2 --stream a=1 "$L/cbs.log"
	[[ ${lines[0]} == '{"_time":"2016-09-28T04:30:30.000000000Z","_stream":"{a=\"1\",b=\"2\"}",'* ]]
	run -0 logcat --stream-fields logger,level "$L/cbs.log"
	[[ ${lines[1]} == *'"_stream":"{level=\"error\",logger=\"CSI\"}"'* ]]
}

@test "--add adds fields and replaces ones of the same name" {
	run -0 logcat --add env=prod -a logger=mine "$L/cbs.log"
	[ "${lines[0]}" = '{"_time":"2016-09-28T04:30:30.000000000Z","_msg":"Loaded Servicing Stack v6.1.7601.23505","level":"info","level_raw":"Info","env":"prod","logger":"mine"}' ]
	run -2 --separate-stderr logcat --add novalue "$L/cbs.log"
	[[ $stderr == *"--add: expected KEY=VALUE"* ]]
}

@test "plain text: each line a _msg, indented lines joined, --time-now" {
	printf 'hello\n  indented\n\nworld\n' > t.txt
	run -0 logcat t.txt
	[ "${lines[0]}" = '{"_msg":"hello\n  indented"}' ]
	[ "${lines[1]}" = '{"_msg":"world"}' ]
	[ "${#lines[@]}" -eq 2 ]
	run -0 logcat --time-now t.txt
	[[ ${lines[0]} =~ ^\{\"_time\":\"20[0-9][0-9]-[0-9-]+T[0-9:]+\.[0-9]{9}Z\",\"_msg\":\"hello ]]
}

@test "malformed JSON lines: raw _msg with _parse_error, or skipped; counted on stderr" {
	printf '{"msg":"ok"}\n{"msg":"cut\n[1]\n{"a":1} x\n' > in.jsonl
	run -0 --separate-stderr logcat in.jsonl
	[ "${lines[0]}" = '{"_msg":"ok"}' ]
	[ "${lines[1]}" = '{"_msg":"{\"msg\":\"cut","_parse_error":"truncated JSON"}' ]
	[ "${lines[2]}" = '{"_msg":"[1]","_parse_error":"not a JSON object"}' ]
	[[ ${lines[3]} == '{"_msg":"{\"a\":1} x","_parse_error":"invalid JSON at column 9'* ]]
	[[ $stderr == *"logcat: in.jsonl:2: truncated JSON"* ]]
	[[ $stderr == *"logcat: 3 malformed lines kept with _parse_error"* ]]
	run -0 --separate-stderr logcat --skip-invalid in.jsonl
	[ "$output" = '{"_msg":"ok"}' ]
	[[ $stderr == *"logcat: 3 malformed lines skipped"* ]]
}

@test "a line that does not fit a forced format is a _parse_error record" {
	printf 'garbage first\n' > in.log
	run -0 --separate-stderr logcat --format syslog in.log
	[ "$output" = '{"_msg":"garbage first","_parse_error":"not a syslog line"}' ]
	[[ $stderr == *"in.log:1: not a syslog line"* ]]
}

@test "invalid UTF-8 is replaced, never written raw; NUL bytes escaped" {
	printf '{"msg":"a\xffb"}\n' > bad.jsonl
	run -0 --separate-stderr logcat bad.jsonl
	[ "$output" = $'{"_msg":"a\xef\xbf\xbdb"}' ]
	[[ $stderr == *"1 record with invalid UTF-8 repaired"* ]]
	printf 'x\xc3(y\nz\0w\n' > bad.txt
	run -0 --separate-stderr logcat --format text bad.txt
	[ "${lines[0]}" = $'{"_msg":"x\xef\xbf\xbd(y"}' ]
	[ "${lines[1]}" = '{"_msg":"z\u0000w"}' ]
	[[ $stderr == *"1 line with NUL bytes escaped"* ]]
}

@test "binary files are detected and skipped with a message, the rest processed" {
	head -c 4096 /bin/sh > bin.dat
	run -1 --separate-stderr logcat bin.dat "$L/cbs.log"
	[ "${#lines[@]}" -eq 2 ]
	[[ $stderr == *"bin.dat: binary file skipped"* ]]
}

@test "a 100 MB line: memory stays bounded, the event is cut and counted" {
	{ echo "2025-05-17 04:44:04,545 INFO [main] a.B: start"; head -c 100000000 /dev/zero | tr '\0' x; echo; } > huge.log
	run -0 --separate-stderr /usr/bin/time -f 'rss=%M' logcat --format text huge.log
	[ "${#lines[@]}" -eq 2 ]
	[ "${#lines[1]}" -lt 1100000 ]
	[[ $stderr == *"1 event cut at 1048576 bytes"* ]]
	[[ $stderr =~ rss=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -lt 40000 ]
}

@test "--max-event-bytes caps joined stack traces" {
	{ echo "2025-05-17 04:44:04,545 ERROR [main] a.B: boom"; for i in $(seq 100); do printf '\tat frame%03d(X.java:1)\n' "$i"; done; } > st.log
	run -0 --separate-stderr logcat --max-event-bytes 200 st.log
	[ "${#lines[@]}" -eq 1 ]
	[[ $stderr == *"1 event cut at 200 bytes"* ]]
	run -2 --separate-stderr logcat --max-event-bytes 12x st.log
	[[ $stderr == *"bad size '12x'"* ]]
}

@test "stdin as - and no operand; a missing file is exit 1, the rest processed" {
	run -0 logcat - < "$L/cbs.log"
	[ "${#lines[@]}" -eq 2 ]
	run -1 --separate-stderr logcat nosuch.log "$L/cbs.log"
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "logcat: nosuch.log: No such file or directory" ]
	run -1 --separate-stderr logcat .
	[[ $stderr == "logcat: .: Is a directory" ]]
}

@test "-h, --version, bad options" {
	run -0 logcat -h
	[[ ${lines[0]} == "usage: logcat"* ]]
	run -0 logcat --version
	[[ $output == "logcat "* ]]
	run -2 logcat --nosuch
	run -2 logcat --from-start x
}

@test "-u writes each record as it is made" {
	run -0 logcat -u "$L/shapes.jsonl"
	[ "${#lines[@]}" -eq 2 ]
}

@test "output errors: closed stdout and a full disk are status 2, a reader gone is quiet" {
	run -2 --separate-stderr bash -c 'logcat "$1" >&-' _ "$L/shapes.jsonl"
	[[ $stderr == *"logcat: write error"* ]]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logcat "$1" > /dev/full' _ "$L/shapes.jsonl"
	[[ $stderr == *"logcat: write error: No space left on device"* ]]
	for i in $(seq 20000); do cat "$L/app.log"; done > big.log
	run -0 --separate-stderr bash -c 'set -o pipefail; logcat big.log | head -1 > /dev/null; echo "${PIPESTATUS[0]}"'
	[ "$output" = 141 ]
	[ -z "$stderr" ]
}

@test "line records (logunpack --lines of a text member) are lines of their _file" {
	jq -R -c --arg f run/app.log '{_msg: ., _file: $f}' "$L/app.log" |
		awk '{ sub(/}$/, ",\"_line\":" NR "}"); print }' > recs.jsonl
	run -0 --separate-stderr logcat --stream run_id=R recs.jsonl
	# the same records as logcat of the file itself, with _file and _line
	logcat --stream run_id=R "$L/app.log" > direct
	[ "${#lines[@]}" -eq "$(wc -l < direct)" ]
	printf '%s\n' "${lines[@]}" | jq -c 'del(._file, ._line)' > via
	expect_same direct via
	# _line is the event's first line; a stack trace stays one event
	run -0 jq -r '"\(._file) \(._line) \(.level)"' <<< "${lines[*]}"
	[[ ${lines[0]} == "run/app.log 1 "* ]]
	run -0 bash -c "printf '%s\n' \"\$1\" | jq -r 'select(._msg | test(\"\\n\\tat \")) | ._line'" _ "$(cat via)"
}

@test "line records of two files: each file its own format and events" {
	{
		jq -R -c '{_msg: ., _file: "a/app.log"}' "$L/app.log"
		jq -R -c '{_msg: ., _file: "b/access.log"}' "$L/access.log"
	} > recs.jsonl
	run -0 --separate-stderr logcat recs.jsonl
	logcat "$L/app.log" "$L/access.log" > direct
	printf '%s\n' "${lines[@]}" | jq -c 'del(._file, ._line)' > via
	expect_same direct via
	[ "$(printf '%s\n' "${lines[@]}" | jq -r ._file | uniq | tr '\n' ' ')" = "a/app.log b/access.log " ]
	# a record with any other field is a record, not a line
	printf '{"_msg":"x","_file":"f","_line":1,"host":"h"}\n{"_msg":"y","_file":"f","_line":"2"}\n' > other.jsonl
	run -0 logcat other.jsonl
	[ "${lines[0]}" = '{"_msg":"x","_file":"f","_line":1,"host":"h"}' ]
	[ "${lines[1]}" = '{"_msg":"y","_file":"f","_line":"2"}' ]
}

@test "line records: a malformed line names the member and its line" {
	printf '%s\n' '{"_msg":"{\"a\":1}","_file":"w/x.log","_line":1}' \
		'{"_msg":"{bad","_file":"w/x.log","_line":2}' > recs.jsonl
	run -0 --separate-stderr logcat recs.jsonl
	[ "${lines[0]}" = '{"a":1,"_file":"w/x.log","_line":1}' ]
	[ "${lines[1]}" = '{"_msg":"{bad","_parse_error":"invalid JSON at column 2: quoted object property name expected","_file":"w/x.log","_line":2}' ]
	[[ $stderr == *"logcat: w/x.log:2: invalid JSON at column 2"* ]]
}

@test "logunpack --lines | logcat: JSON members pass, a text member is parsed" {
	mkdir -p run
	cp "$L/shapes.jsonl" run/events.log
	cp "$L/app.log" run/service.log
	tar -cf run.tar run
	run -0 --separate-stderr bash -c 'logunpack --lines run.tar | logcat --stream run_id=R'
	printf '%s\n' "${lines[@]}" > out
	[ "$(jq -r 'select(._file == "run/events.log") | .level' out | tr '\n' ' ')" = "info error " ]
	[ "$(jq -r 'select(._file == "run/service.log") | ._time' out | grep -c '^20')" -eq "$(logcat "$L/app.log" | grep -c _time)" ]
	[ "$(jq -r '._stream' out | sort -u)" = '{run_id="R"}' ]
}
