#!/usr/bin/env bats
# logq over records on stdin and in files: the issue's seed workflows, output formats, exit codes, bad input.
bats_require_minimum_version 1.5.0
load helper

local_setup() {
	F=$FIX/logq
}

# strings: the record as logq prints it (every value a string), for jq oracles.
strings='with_entries(.value |= (if type == "string" then . else tojson end))'

@test "logq: seed: stream selector and a closed time range" {
	logq '{stream="action", run_id="R"} _time:[2025-05-17T04:44:00Z,2025-05-17T04:45:00Z]' \
		< "$F/records.jsonl" > actual
	cat > expected <<'EOF'
{"_time":"2025-05-17T04:44:01.000000000Z","_stream":"{run_id=\"R\",stream=\"action\"}","_msg":"user login ok","action":"login","target":"node-3"}
{"_time":"2025-05-17T04:44:59.000000000Z","_stream":"{run_id=\"R\",stream=\"action\"}","_msg":"logout","action":"logout","target":"node-3"}
EOF
	expect_same expected actual
}

@test "logq: seed: exact uuid with limit 1" {
	run -0 --separate-stderr logq '{stream="events", run_id="R"} event_id:="ee0368b3-0b89-4cb1-835d-29460f349bef" | limit 1' < "$F/records.jsonl"
	[ "$output" = '{"_time":"2025-05-17T04:44:30.000000000Z","_stream":"{run_id=\"R\",stream=\"events\"}","_msg":"disk error on node-3","severity":"ERROR","type":"disk","event_id":"ee0368b3-0b89-4cb1-835d-29460f349bef"}' ]
	[ "$stderr" = "" ]
}

@test "logq: seed: stats by type, sorted by count" {
	run -0 --separate-stderr logq '{stream="events"} severity:ERROR | stats by (type) count() as n | sort by (n desc)' < "$F/records.jsonl"
	[ "$output" = '{"type":"disk","n":"3"}
{"type":"net","n":"1"}' ]
}

@test "logq: seed: pagination with sort, offset and limit (jq as oracle)" {
	logq 'level:error source:db | sort by (_time desc) | offset 50 | limit 50' "$F/app.jsonl" > actual
	jq -c "select(.level == \"error\" and .source == \"db\") | $strings" "$F/app.jsonl" |
		tac | tail -n +51 | head -50 > expected
	[ "$(wc -l < expected)" -eq 17 ]
	expect_same expected actual
}

@test "logq: seed: histogram by minute over the last hour" {
	logq --now 2025-05-17T04:30:00Z '_time:1h | stats by (_time:1m) count()' < "$F/app.jsonl" > actual
	for m in 10 11 12 13 14 15 16 17 18 19; do
		echo "{\"_time\":\"2025-05-17T04:$m:00.000000000Z\",\"count(*)\":\"60\"}"
	done > expected
	expect_same expected actual
	run -1 --separate-stderr logq --now 2025-05-17T06:00:00Z '_time:1h' < "$F/app.jsonl"
	[ "$output" = "" ]
}

@test "logq: seed: quantile and sum for one customer (jq as oracle)" {
	run -0 --separate-stderr logq 'customer:cust_1 | stats quantile(0.99, latency) as p99, sum(latency) as total' < "$F/app.jsonl"
	sum=$(jq -s '[.[] | select(.customer == "cust_1") | .latency] | add' "$F/app.jsonl")
	p99=$(jq -s '[.[] | select(.customer == "cust_1") | .latency] | sort | .[(length * 0.99 | floor)]' "$F/app.jsonl")
	[ "$output" = "{\"p99\":\"$p99\",\"total\":\"$sum\"}" ]
}

@test "logq: word filters follow LogsQL tokenization" {
	run -0 --separate-stderr logq -o raw 'error' < "$F/records.jsonl"
	[ "$output" = "disk error on node-3
disk error elsewhere" ]
	run -1 --separate-stderr logq 'erro' < "$F/records.jsonl"
	run -0 --separate-stderr logq -o raw 'erro* -elsewhere' < "$F/records.jsonl"
	[ "$output" = "disk error on node-3" ]
	run -0 --separate-stderr logq -o raw '"node-3" OR i(FAN)' < "$F/records.jsonl"
	[ "$output" = "disk error on node-3
fan slow" ]
	run -0 --separate-stderr logq -o raw 'type:in(net, fan) severity:~"^W"' < "$F/records.jsonl"
	[ "$output" = "fan slow" ]
}

@test "logq: precedence NOT > AND > OR, parentheses" {
	run -0 --separate-stderr logq -o raw 'boot OR disk -full' < "$F/records.jsonl"
	[ "$output" = "boot
disk error on node-3
disk error elsewhere" ]
	run -0 --separate-stderr logq -o raw '(boot OR disk) -full -elsewhere' < "$F/records.jsonl"
	[ "$output" = "boot
disk error on node-3" ]
}

@test "logq: numeric comparisons and range" {
	run -0 --separate-stderr logq 'latency:range[495, 500) | fields _msg, latency' < "$F/app.jsonl"
	[ "$output" = "$(jq -c 'select(.latency >= 495 and .latency < 500) | {_msg, latency: (.latency | tostring)}' "$F/app.jsonl")" ]
	n=$(logq 'latency:>=250 | stats count() n' < "$F/app.jsonl")
	[ "$n" = "{\"n\":\"$(jq -s '[.[] | select(.latency >= 250)] | length' "$F/app.jsonl")\"}" ]
}

@test "logq: top, uniq, fields, delete, filter" {
	run -0 --separate-stderr logq '* | top 2 by (type)' < "$F/records.jsonl"
	[ "$output" = '{"type":"","hits":"3"}
{"type":"disk","hits":"3"}' ]
	run -0 --separate-stderr logq 'severity:* | uniq by (type)' < "$F/records.jsonl"
	[ "$output" = '{"type":"disk"}
{"type":"net"}
{"type":"fan"}' ]
	run -0 --separate-stderr logq 'type:fan | delete _time, _stream, event_id' < "$F/records.jsonl"
	[ "$output" = '{"_msg":"fan slow","severity":"WARN","type":"fan"}' ]
	run -0 --separate-stderr logq '* | stats by (type) count() c | filter c:>1 | fields type' < "$F/records.jsonl"
	[ "$output" = '{"type":""}
{"type":"disk"}' ]
}

@test "logq: values come out as strings, nested objects flattened" {
	printf '%s\n' '{"_msg":"m","n":1.50,"b":true,"z":null,"o":{"p":{"q":2}},"a":[1,"x"]}' > in
	run -0 --separate-stderr logq 'o.p.q:2' < in
	[ "$output" = '{"_msg":"m","n":"1.50","b":"true","z":"","o.p.q":"2","a":"[1,\"x\"]"}' ]
}

@test "logq: output formats table, logfmt, raw, csv" {
	logq -o table 'type:disk | fields event_id, type, _msg' < "$F/records.jsonl" > actual
	cat > expected <<'EOF'
_msg                  event_id                              type
disk error on node-3  ee0368b3-0b89-4cb1-835d-29460f349bef  disk
disk full             bb2                                   disk
disk error elsewhere  cc3                                   disk
EOF
	expect_same expected actual
	run -0 --separate-stderr logq -o logfmt 'fan | delete _stream' < "$F/records.jsonl"
	[ "$output" = '_time=2025-05-17T04:46:00.000000000Z _msg="fan slow" severity=WARN type=fan event_id=dd4' ]
	printf '%s\n' '{"_msg":"a,b \"q\"","x":"1"}' '{"_msg":"c","y":"2"}' > in
	logq -o csv '*' < in > actual
	printf '_msg,x,y\r\n"a,b ""q""",1,\r\nc,,2\r\n' > expected
	expect_same expected actual
}

@test "logq: table neutralises control characters, colour only when asked" {
	printf '%s\n' '{"_msg":"evil\u001b[31m\nline","k":"v\u0007"}' > in
	run -0 --separate-stderr logq -o table '*' < in
	[ "$output" = '_msg                  k
evil\u001b[31m\nline  v\u0007' ]
	run -0 --separate-stderr logq -o table --color=always '*' < in
	[[ "${lines[0]}" == $'\033[1m_msg'* ]]
	run -2 --separate-stderr logq --color=sometimes '*' < in
	[ "$stderr" = "logq: bad --color 'sometimes' (auto, always or never)" ]
}

@test "logq: exit status 1 when nothing matches, 0 otherwise" {
	run -1 --separate-stderr logq 'nothing_like_this' < "$F/records.jsonl"
	[ "$output" = "" ]
	run -1 --separate-stderr logq '*' < /dev/null
	run -0 --separate-stderr logq 'nothing_like_this | stats count()' < "$F/records.jsonl"
	[ "$output" = '{"count(*)":"0"}' ]
}

@test "logq: syntax errors name the position, status 2" {
	run -2 --separate-stderr logq 'foo (bar OR baz' < /dev/null
	[ "$stderr" = "logq: query:1:16: unexpected end of query, expected ')'" ]
	run -2 --separate-stderr logq 'a | nope' < /dev/null
	[ "$stderr" = "logq: query:1:5: unknown pipe 'nope'" ]
	run -2 --separate-stderr logq 'f:~"(unclosed"' < /dev/null
	[[ "$stderr" == "logq: query:1:4: bad regex: missing closing parenthesis"* ]]
	run -2 --separate-stderr logq '' < /dev/null
	[ "$stderr" = "logq: query:1:1: empty query" ]
	run -2 --separate-stderr logq "$(printf 'a\n| stats by (x count()')" < /dev/null
	[ "$stderr" = "logq: query:2:15: expected ')', found 'c'" ]
}

@test "logq: usage, help, version" {
	run -2 --separate-stderr logq
	[[ "$stderr" == "usage: logq "* ]]
	run -0 --separate-stderr logq --help
	[[ "$output" == "usage: logq "* ]]
	run -0 --separate-stderr logq --version
	[[ "$output" == "logq "[0-9]* ]]
	run -2 --separate-stderr logq -o yaml '*'
	[ "$stderr" = "logq: unknown output format 'yaml' (json, table, logfmt, raw, csv)" ]
}

@test "logq: libcurl is not linked, and only --remote loads it" {
	run -0 ldd "$(command -v logq)"
	[[ "$output" == *libc.so* ]]
	[[ "$output" != *libcurl* ]]
	# the loader's own account (LD_DEBUG) of what a run maps: --remote loads libcurl...
	run -2 --separate-stderr env LD_DEBUG=files logq --remote http://127.0.0.1:1 --timeout 1s '*'
	[[ "$stderr" == *"file=libcurl.so.4 "* ]]
	# ...a query on stdin, on files and on an index does not, not even at exit
	printf '{"_time":"2025-05-17T10:00:00Z","_msg":"disk error"}\n' > in
	logindex -d idx < in
	run -0 --separate-stderr env LD_DEBUG=files logq error < in
	[[ "$output" == *'"disk error"'* && "$stderr" == *"file=libc.so.6 "* && "$stderr" != *libcurl* ]]
	run -0 --separate-stderr env LD_DEBUG=files logq error in
	[[ "$stderr" != *libcurl* ]]
	run -0 --separate-stderr env LD_DEBUG=files logq --explain -d idx error
	[[ "$output" == *'"disk error"'* && "$stderr" != *libcurl* ]]
}

@test "logq: malformed, truncated and binary lines are reported and skipped" {
	{ echo '{"_msg":"good one"}'; echo 'not json'; printf '{"_msg":"trunc'; echo; echo '[1,2]';
	  printf '{"_msg":"nul\0"}\n'; head -c 3000 /dev/urandom | tr -d '\n\\'; echo;
	  echo '{"_msg":"good two"}'; } > in
	run -0 --separate-stderr logq -o raw '*' < in
	[ "$output" = "good one
good two" ]
	[[ "$stderr" == *"logq: <stdin>:2: invalid JSON at column "* ]]
	[[ "$stderr" == *"logq: <stdin>:3: truncated JSON"* ]]
	[[ "$stderr" == *"logq: <stdin>:4: not a JSON object"* ]]
	[[ "$stderr" == *"logq: <stdin>:5: NUL byte in line"* ]]
}

@test "logq: huge field values and lines" {
	{ printf '{"_msg":"start '; head -c 5000000 /dev/zero | tr '\0' 'x'; printf ' needle end"}\n'; } > in
	run -0 --separate-stderr logq -o raw 'needle | stats count() n' < in
	[ "$output" = "" ] || [ "$output" = "" ]
	run -0 --separate-stderr logq 'needle | stats count() n' < in
	[ "$output" = '{"n":"1"}' ]
}

@test "logq: files as operands, a missing file is status 2" {
	run -0 --separate-stderr logq -o raw 'boot' "$F/records.jsonl" - < /dev/null
	[ "$output" = "boot" ]
	run -2 --separate-stderr logq -o raw 'boot' nosuchfile "$F/records.jsonl"
	[ "$output" = "boot" ]
	[ "$stderr" = "logq: nosuchfile: No such file or directory" ]
}

@test "logq: --explain on stdin counts lines and matches" {
	run -0 --separate-stderr logq --explain 'disk -full' < "$F/records.jsonl"
	[[ "$stderr" == *"logq: explain: query: (_msg:\"disk\" AND NOT _msg:\"full\")"* ]]
	[[ "$stderr" == *"lines read 8, skipped by word filter 5, malformed 0, records matched 2, output 2"* ]]
}

@test "logq: closed stdout, full disk, a reader that goes away" {
	run -2 --separate-stderr bash -c 'logq "*" < "$1" >&-' _ "$F/app.jsonl"
	[[ "$stderr" == "logq: "* ]]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logq "*" < "$1" > /dev/full' _ "$F/app.jsonl"
	[[ "$stderr" == "logq: "*"No space left on device"* ]]
	run -0 --separate-stderr bash -c 'for i in 1 2 3 4 5 6 7 8; do cat "$1"; done | logq "*" | head -1' _ "$F/app.jsonl"
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "logq: limit stops reading early" {
	run -0 --separate-stderr bash -c 'yes "{\"_msg\":\"x\"}" | logq "x | limit 3"'
	[ "${#lines[@]}" -eq 3 ]
}
