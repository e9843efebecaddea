#!/usr/bin/env bats
# logq --remote against the strict VictoriaLogs and Loki test servers in
# tests/servers/: records go in with logpush, and what comes back must be
# byte for byte what logq prints over the same records locally.
bats_require_minimum_version 1.5.0
load helper

# start NAME [ARGS]: a test server on a free port; sets URL and SPID.
start() {
	local name=$1; shift
	python3 "$TOP/tests/servers/$name.py" --port-file "$T/port" --store "$T/stored" \
		--requests "$T/requests" --lifetime 120 "$@" &
	SPID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	URL=http://127.0.0.1:$(cat "$T/port")
}

local_teardown() {
	[ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null || true
}

ctl() { curl -s -XPOST "$URL/_test/$1" > /dev/null; }

# records in VictoriaLogs' model: the stream's labels are fields too, the
# other fields in name order (the order VictoriaLogs answers them in), no
# empty values, times with nine digits in the last hour
records() {
	local t; t=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%S)
	cat > in <<-EOF
	{"_time":"$t.100000000Z","_stream":"{app=\"web\",host=\"h1\"}","_msg":"GET /index 200","app":"web","bytes":"512","host":"h1","level":"info"}
	{"_time":"$t.200000000Z","_stream":"{app=\"web\",host=\"h2\"}","_msg":"disk error: /dev/sda1 full","app":"web","host":"h2","level":"error"}
	{"_time":"$t.300000000Z","_stream":"{app=\"db\",host=\"h1\"}","_msg":"errors: none","app":"db","host":"h1","level":"info"}
	{"_time":"$t.350000000Z","_stream":"{app=\"db\",host=\"h1\"}","_msg":"café au lait, tab\there","app":"db","host":"h1","level":"debug"}
	{"_time":"$t.400000000Z","_stream":"{app=\"web\",host=\"h1\"}","_msg":"retry error after timeout","app":"web","attempt":"3","host":"h1","level":"warn"}
	{"_time":"$t.500000001Z","_stream":"{app=\"db\",host=\"h2\"}","_msg":"error-prone query took 5s","app":"db","host":"h2","level":"warn","query":"select 1"}
	EOF
	T0=$t
}

@test "logq --remote: option errors, no files, no -d, secrets from files" {
	run -2 --separate-stderr logq --remote ftp://x '*'
	[[ "$stderr" == "logq: --remote: 'ftp://x': want an http:// or https:// URL"* ]]
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 '*' somefile
	[ "$stderr" = "logq: --remote: no file operands (the server holds the records)" ]
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 -d idx '*'
	[ "$stderr" = "logq: --remote and -d: choose one" ]
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 --limit 0 '*'
	[[ "$stderr" == "logq: --limit: bad count '0'"* ]]
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 --timeout soon '*'
	[[ "$stderr" == "logq: --timeout: bad duration 'soon'"* ]]
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 --bearer-token-file nofile '*'
	[ "$stderr" = "logq: nofile: No such file or directory" ]
	: > empty
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 --bearer-token-file empty '*'
	[ "$stderr" = "logq: empty secret: empty" ]
	echo nocolon > basic
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 --basic-auth-file basic '*'
	[ "$stderr" = "logq: basic: expected user:password" ]
	# a query logq cannot parse never reaches a server
	run -2 --separate-stderr logq --remote http://127.0.0.1:1 'a:('
	[[ "$stderr" == "logq: query:1:"* ]]
	run -0 logq --help
	[[ "$output" == *"logq --remote url"* ]]
}

@test "logq --remote: a libcurl that cannot be loaded is named, status 2, no request made" {
	start victorialogs
	mkdir lib
	# not a shared object at all
	printf 'not a library\n' > lib/libcurl.so.4
	run -2 --separate-stderr env LD_LIBRARY_PATH="$T/lib" logq --remote "$URL" '*'
	[[ "$stderr" == "logq: --remote: cannot load libcurl: $T/lib/libcurl.so.4: "* ]]
	[ "$(wc -l <<< "$stderr")" = 1 ] && [ "$output" = "" ]
	# a library, but not libcurl: the first missing function is named
	cp "$(ldd "$(command -v logq)" | awk '$1 ~ /^libzstd/ { print $3 }')" lib/libcurl.so.4
	run -2 --separate-stderr env LD_LIBRARY_PATH="$T/lib" logq --remote "$URL" '*'
	[ "$stderr" = "logq: --remote: cannot load libcurl: $T/lib/libcurl.so.4: undefined symbol: curl_global_init" ]
	[ ! -s requests ]
	# the same query with the real libcurl reaches the server
	run -1 --separate-stderr logq --remote "$URL" '*'
	[ "$stderr" = "" ] && [ -s requests ]
	# what needs no libcurl still works without one
	echo '{"_msg":"x"}' > in
	run -0 env LD_LIBRARY_PATH="$T/lib" logq x in
	[ "$output" = '{"_msg":"x"}' ]
}

@test "logq --remote victorialogs: the same bytes as logq over the records, every format" {
	start victorialogs
	records
	run -0 --separate-stderr logpush --to victorialogs --stream-fields app,host "$URL" < in
	# the server answers its own way: _stream_id, trimmed times, fields by name
	curl -s "$URL/select/logsql/query" -d 'query=*' > raw
	[ "$(head -1 raw | jq -r 'keys_unsorted[:4] | join(",")')" = "_time,_stream_id,_stream,_msg" ]
	[ "$(head -1 raw | jq -r ._time)" = "${T0}.1Z" ]
	for q in '*' 'error' '"disk error"' 'err*' '{app="web"}' '{app="db"} -debug' \
		'level:warn' 'level:=info host:h1' '_stream:{host=~"h[2-9]"}' '-error' \
		"_time:[$T0.2Z, $T0.4Z)" "_time:>=$T0.35Z" '_time:1h café' '"tab\there"' \
		'* | limit 2' 'error | head 1'; do
		for o in json table logfmt raw csv; do
			logq -o "$o" -- "$q" in > expected || true
			run --separate-stderr logq -o "$o" --remote "$URL" -- "$q"
			[ "$stderr" = "" ]
			printf '%s\n' "$output" > got
			[ -s expected ] || { [ "$status" -eq 1 ] && continue; }
			[ "$status" -eq 0 ]
			expect_same expected got || { echo "query: $q -o $o"; return 1; }
		done
	done
	# nothing matches: exit 1, no output
	run -1 --separate-stderr logq --remote "$URL" 'nosuchword'
	[ "$output" = "" ]
	[ "$stderr" = "" ]
}

@test "logq --remote victorialogs: the request: POST form, start/end for absolute times, --limit" {
	start victorialogs
	records
	logpush --to victorialogs --stream-fields app,host "$URL" < in > /dev/null
	: > requests
	run -0 --separate-stderr logq --explain --remote "$URL" "error _time:[$T0.2Z, $T0.4Z]"
	[[ "$stderr" == *"POST $URL/select/logsql/query query=error%20_time%3A%5B${T0//:/%3A}.2Z%2C%20${T0//:/%3A}.4Z%5D&start=${T0//:/%3A}.200000000Z&end=${T0//:/%3A}.400000001Z"* ]]
	[ "$(jq -r '[.method,.path,.content_type] | @tsv' requests)" = "$(printf 'POST\t/select/logsql/query\tapplication/x-www-form-urlencoded')" ]
	# relative times are the server's to resolve: no start/end; --now cannot apply
	run -0 --separate-stderr logq --explain --remote "$URL" '_time:1h error'
	[[ "$stderr" == *"query=_time%3A1h%20error"$'\n'* ]]
	run -2 --separate-stderr logq --now 2025-01-01T00:00:00Z --remote "$URL" '_time:1h error'
	[[ "$stderr" == "logq: --now: VictoriaLogs resolves relative _time filters by its own clock"* ]]
	# --limit N: the N most recent, which the server sends newest first, printed oldest first
	curl -s "$URL/select/logsql/query" -d 'query=*' -d limit=2 | jq -r ._msg > raw
	printf 'error-prone query took 5s\nretry error after timeout\n' > expected
	expect_same expected raw
	run -0 --separate-stderr logq --remote "$URL" --limit 2 '*'
	printf '%s\n' "$output" > got
	logq '*' in | tail -n 2 > expected
	expect_same expected got
	run -0 --separate-stderr logq --remote "$URL" --limit 100 -o raw 'error'
	[ "${#lines[@]}" -eq 3 ]
}

@test "logq --remote victorialogs: a bad query is the server's 400 in one line; retries; exit 2" {
	start victorialogs
	records
	logpush --to victorialogs "$URL" < in > /dev/null
	# valid for logq, outside what the test server evaluates: its 400, one line
	run -2 --separate-stderr logq --remote "$URL" 'error OR disk'
	[ "$output" = "" ]
	[[ "$stderr" == "logq: $URL: HTTP 400: remoteAddr: \"127.0.0.1:"*"; requestURI: /select/logsql/query; cannot parse query [error OR disk]: unsupported 'OR'"* ]]
	[ "$(wc -l <<< "$stderr")" -eq 1 ]
	# transient answers are retried before anything is printed
	ctl 'fail?status=503&count=2'
	run -0 --separate-stderr logq --remote "$URL" -o raw 'disk'
	[ "$output" = "disk error: /dev/sda1 full" ]
	ctl 'fail?status=503&count=3'
	run -2 --separate-stderr logq --remote "$URL" -o raw 'disk'
	[ "$stderr" = "logq: $URL: HTTP 503: injected failure 503" ]
	# a permanent answer is not
	: > requests
	ctl 'fail?status=403&count=1'
	run -2 --separate-stderr logq --remote "$URL" 'disk'
	[ "$stderr" = "logq: $URL: HTTP 403: injected failure 403" ]
	[ "$(wc -l < requests)" -eq 1 ]
}

@test "logq --remote: connection refused, a dropped connection, a cut answer, a garbled one, a stall" {
	port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	run -2 --separate-stderr logq --remote "http://127.0.0.1:$port" '*'
	[[ "$stderr" == "logq: http://127.0.0.1:$port: Failed to connect to 127.0.0.1 port $port"* ]]
	[ "$(wc -l <<< "$stderr")" -eq 1 ]
	start victorialogs
	records
	logpush --to victorialogs "$URL" < in > /dev/null
	# dropped before answering: retried, then given up
	ctl 'drop?count=1'
	run -0 --separate-stderr logq --remote "$URL" '*'
	[ "${#lines[@]}" -eq 6 ]
	ctl 'drop?count=3'
	run -2 --separate-stderr logq --remote "$URL" '*'
	[ "$stderr" = "logq: $URL: Empty reply from server" ]
	# dropped in the middle of the answer: what came is printed, exit 2, no retry
	: > requests
	ctl 'cut?after=2'
	run -2 --separate-stderr logq --remote "$URL" -o raw '*'
	[ "${#lines[@]}" -eq 2 ]
	[[ "$stderr" == "logq: $URL: answer cut short after 2 records: "* ]]
	[ "$(wc -l < requests)" -eq 1 ]
	# not JSON lines
	ctl 'garble?count=1'
	run -2 --separate-stderr logq --remote "$URL" -o raw '*'
	[ "$output" = "fine" ]
	[ "$stderr" = "logq: $URL: answer line 2: not a JSON object" ]
	# a server that says nothing: --timeout per attempt, three attempts
	ctl 'stall?count=3&seconds=4'
	s=$(date +%s%N)
	run -2 --separate-stderr logq --remote "$URL" --timeout 1s '*'
	e=$(date +%s%N)
	[ "$stderr" = "logq: $URL: timed out: nothing received for 1 s (--timeout)" ]
	[ $(( (e - s) / 1000000 )) -lt 8000 ]
}

@test "logq --remote: the answer is streamed, not held: lines print while it arrives" {
	start victorialogs
	records
	logpush --to victorialogs "$URL" < in > /dev/null
	ctl 'pause?after=2&seconds=3'
	logq -u -o raw --remote "$URL" '*' > got &
	P=$!
	sleep 1.5
	[ "$(wc -l < got)" -eq 2 ]
	wait "$P"
	[ "$(wc -l < got)" -eq 6 ]
}

@test "logq --remote: bearer and basic credentials from files go to the server" {
	start victorialogs
	records
	logpush --to victorialogs "$URL" < in > /dev/null
	printf 's3cret\n' > tok
	printf 'user:pa ss\n' > basic
	: > requests
	run -0 logq --remote "$URL" --bearer-token-file tok 'disk'
	run -0 logq --remote "$URL" --basic-auth-file basic 'disk'
	jq -r .authorization requests > got
	printf 'Bearer s3cret\nBasic %s\n' "$(printf 'user:pa ss' | base64)" > expected
	expect_same expected got
	# and a password in the URL is not shown in messages
	run -2 --separate-stderr logq --remote "http://u:hidden@127.0.0.1:1" '*'
	[[ "$stderr" != *hidden* ]]
}

@test "logq --remote loki: LogQL translation, the same bytes as logq locally" {
	start loki
	records
	jq -c '{_time,_stream,_msg}' in > local
	run -0 --separate-stderr logpush --to loki "$URL" < in
	for q in '{app="web"} _time:1h' '{host="h1"} error _time:1h' '{app=~"web|db"} error _time:1h' \
		'{app="db"} -{host="h2"} _time:1h' '{app="db", host!="h2"} _time:1h' \
		'{app=~".+"} -error _time:1h' '{app=~".+"} -"error:" _time:1h' '{app=~".+"} err* _time:1h' \
		'{app=~".+"} _msg:~"GET|took" _time:1h' '{app=~".+"} i(DISK) _time:1h' \
		'{app=~".+"} (disk OR retry) _time:1h' '{app=~".+"} -i(ERROR) _time:1h' \
		"{app=~\".+\"} _time:[$T0.2Z, $T0.4Z)" '{app=~".+"} café _time:1h' \
		'{app=~".+"} _time:1h | limit 2'; do
		for o in json table csv; do
			logq -o "$o" -- "$q" local > expected || true
			run --separate-stderr logq -o "$o" --remote "loki+$URL" -- "$q"
			[ "$stderr" = "" ]
			printf '%s\n' "$output" > got
			[ -s expected ] || { [ "$status" -eq 1 ] && continue; }
			[ "$status" -eq 0 ]
			expect_same expected got || { echo "query: $q -o $o"; return 1; }
		done
	done
	# Loki narrows by text ("errors", "error-prone" contain it); logq keeps words
	run -0 --separate-stderr logq --explain -o raw --remote "loki+$URL" '{app=~".+"} error _time:1h'
	[[ "$stderr" == *'loki: {app=~".+"} |= "error" over ['* ]]
	[[ "$stderr" == *"records received 4, output 3"* ]]
	run -0 --separate-stderr logq --explain --remote "loki+$URL" '{app=~".+"} -error -"/dev/" _time:1h'
	[[ "$stderr" == *'!~ "(?:^|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F])error(?:$|['*'!= "/dev/"'* ]]
	# --limit N: the N most recent, printed oldest first
	run -0 --separate-stderr logq --remote "loki+$URL" --limit 2 '{app=~".+"} _time:1h'
	printf '%s\n' "$output" > got
	tail -n 2 local > expected
	expect_same expected got
	jq -r .query.direction requests | tail -1 | grep -qx backward
}

@test "logq --remote loki: what has no LogQL form is refused by name, before any request" {
	start loki
	: > requests
	for q in '{app="web"} level:error _time:1h' '{app="web"} _time:1h | stats count()' \
		'error _time:1h' '{app=""} _time:1h' '{app=~".*"} _time:1h' '{app="web"}' \
		'{k8s.pod="x"} _time:1h' '{app="web"} _time:1h | sort by (_time) | limit 1'; do
		run -2 --separate-stderr logq --remote "loki+$URL" "$q"
		[[ "$stderr" == "logq: $URL: cannot translate to LogQL: "* ]]
	done
	[ ! -s requests ]
	run -2 --separate-stderr logq --remote "loki+$URL" '{app="web"} level:error _time:1h'
	[[ "$stderr" == *"field filter 'level:'"* ]]
	run -2 --separate-stderr logq --remote "loki+$URL" '{app="web"} _time:1h | stats count()'
	[[ "$stderr" == *"pipe '| stats'"* ]]
	run -2 --separate-stderr logq --remote "loki+$URL" '{app="web"}'
	[[ "$stderr" == *"no lower bound on _time"* ]]
	run -2 --separate-stderr logq --remote "loki+$URL" '{k8s.pod="x"} _time:1h'
	[[ "$stderr" == *"label 'k8s.pod'"* ]]
	# Loki's own 400: a time range over its max_query_length
	run -2 --separate-stderr logq --remote "loki+$URL" '{app="web"} _time:>2020-01-01'
	[[ "$stderr" == "logq: $URL: HTTP 400: the query time range exceeds the limit"* ]]
}

@test "logq --remote loki: pages of entries, each entry once, also many on one timestamp" {
	start loki
	t=$(date -u -d '-5 min' +%s)
	python3 - "$t" > in <<-'EOF'
	import json, sys
	t = int(sys.argv[1])
	for i in range(2300):
	    ns = t * 10**9 + (i // 3) * 1000   # three entries per timestamp
	    print(json.dumps({"_time": "%d" % ns, "_stream": '{app="a%d"}' % (i % 2), "_msg": "entry %d" % i}))
	for i in range(1500):                  # 1500 on one timestamp: more than a page
	    print(json.dumps({"_time": "%d" % ((t + 60) * 10**9), "_stream": '{app="b"}', "_msg": "same %d" % i}))
	EOF
	run -0 --separate-stderr logpush --to loki --batch-size 5000 "$URL" < in
	[ "$(jq -r .sent <<< "$output")" = 3800 ]
	: > requests
	run -0 --separate-stderr logq -o raw --remote "loki+$URL" '{app=~"a.|b"} _time:1h'
	[ "${#lines[@]}" -eq 3800 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 3800 ]
	[ "$(wc -l < requests)" -ge 4 ]
	# the 1200 most recent: entries 1101 to 2299 and one of the three on the time before
	run -0 --separate-stderr logq -o raw --remote "loki+$URL" --limit 1200 '{app=~"a."} _time:1h'
	[ "${#lines[@]}" -eq 1200 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 1200 ]
	[[ "${lines[0]}" == "entry 109"[89] || "${lines[0]}" == "entry 1100" ]]
	printf '%s\n' "${lines[@]:1}" | sort > got
	seq 1101 2299 | sed 's/^/entry /' | sort > expected
	expect_same expected got
	[ "${lines[1199]}" = "entry 2299" ]
}

@test "logq --remote: closed stdout, full disk, a reader that goes away, a huge record" {
	start victorialogs
	records
	python3 -c 'import json;print(json.dumps({"_msg":"big " + "x"*3000000}))' >> in
	logpush --to victorialogs "$URL" < in > /dev/null
	run -2 --separate-stderr bash -c 'logq --remote "$1" "*" >&-' _ "$URL"
	[[ "$stderr" == "logq: "*"Bad file descriptor" ]]
	if has_dev_full; then
		run -2 --separate-stderr bash -c 'logq --remote "$1" "*" > /dev/full' _ "$URL"
		[[ "$stderr" == "logq: "*"No space left on device" ]]
	fi
	run -0 --separate-stderr bash -c 'logq --remote "$1" "*" | head -c 10' _ "$URL"
	[ "$stderr" = "" ]
	run -0 --separate-stderr logq -o raw --remote "$URL" 'big'
	[ "${#output}" -eq 3000004 ]
}
