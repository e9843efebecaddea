#!/usr/bin/env bats
# logalert: rules files, event-time windows and their edges, cooldowns, late and
# out-of-order input, replay determinism, state across runs, notifiers (--exec,
# a webhook receiver, a real Prometheus Alertmanager), summaries, bad input.
bats_require_minimum_version 1.5.0
load helper

T0=1747476000	# 2025-05-17T10:00:00Z

# r SECONDS[.NNNNNNNNN] [FIELDS]: a record that many seconds after 10:00:00,
# its _time in integer nanoseconds.
r() {
	local s=${1%%.*} f=000000000
	[[ $1 == *.* ]] && f=$(printf '%-9s' "${1#*.}" | tr ' ' 0)
	printf '{"_time":%d%s%s}\n' $((T0 + s)) "$f" "${2:+,$2}"
}

# events: the lines of $output as [_time, state, count, group] rows.
events() {
	jq -c '[._time[11:], .state, .count, .group]' <<< "$output"
}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

setup_file() {
	command -v prometheus-alertmanager > /dev/null || return 0
	A=$BATS_FILE_TMPDIR/am
	mkdir -p "$A"
	python3 "$LOGKIT_TOP/tests/servers/amreceiver.py" --port-file "$A/rport" \
		--log "$A/received" --lifetime 300 > "$A/receiver.log" 2>&1 &
	echo $! > "$A/rpid"
	for _ in $(seq 100); do [ -s "$A/rport" ] && break; sleep 0.05; done
	AMPORT=$(free_port)
	cat > "$A/am.yml" <<-EOF
	route:
	  receiver: hook
	  group_by: ['alertname', 'host']
	  group_wait: 0s
	  group_interval: 1s
	  repeat_interval: 1h
	receivers:
	  - name: hook
	    webhook_configs:
	      - url: http://127.0.0.1:$(cat "$A/rport")/am
	        send_resolved: true
	EOF
	timeout 300 prometheus-alertmanager --config.file="$A/am.yml" --storage.path="$A/data" \
		--web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= > "$A/am.log" 2>&1 &
	echo $! > "$A/pid"
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$AMPORT/-/ready" > /dev/null && break
		sleep 0.1
	done
	AMURL=http://127.0.0.1:$AMPORT
	export A AMURL
}

teardown_file() {
	[ -n "${A:-}" ] || return 0
	[ -s "$A/pid" ] && kill "$(cat "$A/pid")" 2>/dev/null || true
	[ -s "$A/rpid" ] && kill "$(cat "$A/rpid")" 2>/dev/null || true
}

@test "logalert: the issue's example: 3 db errors in 2m per host, at most once a minute, resolved" {
	cat > rules.conf <<-'EOF'
	# db errors, per host
	[db-errors]
	query = severity:ERROR service:db | stats by (host) count()
	threshold = 3
	window = 2m
	cooldown = 1m
	severity = high
	labels = team=db
	description = {{$count}} errors on {{host}} in {{$window}}: {{_msg}}
	EOF
	cat > in <<-'EOF'
	{"_time":"2025-05-17T10:00:00Z","severity":"ERROR","service":"db","host":"db1","_msg":"e1"}
	{"_time":"2025-05-17T10:00:10Z","severity":"ERROR","service":"db","host":"db2","_msg":"x1"}
	{"_time":"2025-05-17T10:00:20Z","severity":"INFO","service":"db","host":"db1","_msg":"ok"}
	{"_time":"2025-05-17T10:00:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e2"}
	{"_time":"2025-05-17T10:01:00Z","severity":"ERROR","service":"db","host":"db1","_msg":"e3"}
	{"_time":"2025-05-17T10:01:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e4"}
	{"_time":"2025-05-17T10:02:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e5"}
	{"_time":"2025-05-17T10:10:00Z","severity":"INFO","service":"db","host":"db1","_msg":"later"}
	EOF
	run -1 --separate-stderr logalert -r rules.conf --resolve < in
	[ "$stderr" = "" ]
	cat > expected <<-'EOF'
	{"_time":"2025-05-17T10:01:00.000000000Z","alert":"db-errors","severity":"high","state":"firing","count":3,"value":3,"group":{"host":"db1"},"window":"2m","first":"2025-05-17T10:00:00.000000000Z","last":"2025-05-17T10:01:00.000000000Z","samples":[{"_time":"2025-05-17T10:00:00Z","severity":"ERROR","service":"db","host":"db1","_msg":"e1"},{"_time":"2025-05-17T10:00:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e2"},{"_time":"2025-05-17T10:01:00Z","severity":"ERROR","service":"db","host":"db1","_msg":"e3"}],"labels":{"team":"db"},"annotations":{"description":"3 errors on db1 in 2m: e3"}}
	{"_time":"2025-05-17T10:02:00.000000000Z","alert":"db-errors","severity":"high","state":"firing","count":3,"value":3,"group":{"host":"db1"},"window":"2m","first":"2025-05-17T10:00:30.000000000Z","last":"2025-05-17T10:01:30.000000000Z","samples":[{"_time":"2025-05-17T10:00:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e2"},{"_time":"2025-05-17T10:01:00Z","severity":"ERROR","service":"db","host":"db1","_msg":"e3"},{"_time":"2025-05-17T10:01:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e4"}],"labels":{"team":"db"},"annotations":{"description":"3 errors on db1 in 2m: e4"}}
	{"_time":"2025-05-17T10:02:30.000000000Z","alert":"db-errors","severity":"high","state":"resolved","count":2,"value":2,"group":{"host":"db1"},"window":"2m","first":"2025-05-17T10:01:00.000000000Z","last":"2025-05-17T10:01:30.000000000Z","samples":[{"_time":"2025-05-17T10:01:00Z","severity":"ERROR","service":"db","host":"db1","_msg":"e3"},{"_time":"2025-05-17T10:01:30Z","severity":"ERROR","service":"db","host":"db1","_msg":"e4"}],"labels":{"team":"db"},"annotations":{"description":"3 errors on db1 in 2m: e4"}}
	EOF
	printf '%s\n' "$output" > actual
	expect_same expected actual
	# without --resolve: the two firings only; exit 0 when nothing fires
	run -1 --separate-stderr logalert -r rules.conf < in
	[ "$(jq -r .state <<< "$output" | tr '\n' ' ')" = "firing firing " ]
	run -0 --separate-stderr logalert -r rules.conf < <(grep -v -e e3 -e e4 in)
	[ "$output" = "" ]
}

@test "logalert: window edges: (t - window, t], to the nanosecond" {
	printf '[two]\nquery = *\nthreshold = 2\nwindow = 10s\n' > r.conf
	{ r 0; r 10; } > in
	run -0 --separate-stderr logalert -r r.conf < in
	[ "$output" = "" ]
	{ r 0; r 9.999999999; } > in
	run -1 --separate-stderr logalert -r r.conf < in
	[ "$(events)" = '["10:00:09.999999999Z","firing",2,{}]' ]
	[ "$(jq -c '[.first, .last]' <<< "$output")" = '["2025-05-17T10:00:00.000000000Z","2025-05-17T10:00:09.999999999Z"]' ]
	# resolved exactly when the oldest record leaves, not when the next record comes
	{ r 0; r 1; r 30; } > in
	run -1 --separate-stderr logalert -r r.conf --resolve < in
	printf '%s\n' '["10:00:01.000000000Z","firing",2,{}]' '["10:00:10.000000000Z","resolved",1,{}]' > expected
	events > actual
	expect_same expected actual
}

@test "logalert: cooldown edges: a reminder exactly one cooldown later while the condition holds" {
	printf '[any]\nquery = *\nwindow = 1m\ncooldown = 10s\n' > r.conf
	{ r 0; r 9.999999999; r 10; r 15; r 19.999999999; } > in
	run -1 --separate-stderr logalert -r r.conf < in
	printf '%s\n' '["10:00:00.000000000Z","firing",1,{}]' '["10:00:10.000000000Z","firing",2,{}]' > expected
	events > actual
	expect_same expected actual
	# the reminder comes from the clock, not from a record: one at 20s sharp
	{ r 0; r 25; } > in
	run -1 --separate-stderr logalert -r r.conf < in
	printf '%s\n' '["10:00:00.000000000Z","firing",1,{}]' '["10:00:10.000000000Z","firing",1,{}]' \
		'["10:00:20.000000000Z","firing",1,{}]' > expected
	events > actual
	expect_same expected actual
}

@test "logalert: cooldown holds back a new episode, which fires once the cooldown is over" {
	printf '[two]\nquery = *\nthreshold = 2\nwindow = 5s\ncooldown = 30s\n' > r.conf
	# episode 1 fires at 1s; episode 2 (7s..12s) falls in the cooldown and ends
	# before it is over; episode 3 starts in the cooldown (30s) and still holds at 31s
	{ r 0; r 1; r 7; r 8; r 29; r 30; r 31.5; } > in
	run -1 --separate-stderr logalert -r r.conf --summary < in
	head -n -1 <<< "$output" | jq -c '[._time[11:], .state, .count]' > actual
	printf '%s\n' '["10:00:01.000000000Z","firing",2]' '["10:00:31.000000000Z","firing",2]' > expected
	expect_same expected actual
	[ "$(tail -n 1 <<< "$output" | jq -c '.summary.rules[0] | [.fired, .suppressed]')" = '[2,2]' ]
}

@test "logalert: out-of-order records: --max-lateness reorders them; without it they are skipped and counted" {
	cat > r.conf <<-'EOF'
	[errs]
	query = error | stats by (host) count()
	threshold = 2
	window = 3s
	EOF
	{ r 0 '"_msg":"error","host":"a"'; r 1 '"_msg":"error","host":"b"'; r 2 '"_msg":"error","host":"a"'
	  r 4 '"_msg":"error","host":"b"'; r 4.5 '"_msg":"error","host":"b"'; r 9 '"_msg":"ok"'; } > sorted
	# the same records, each pair swapped
	awk 'NR % 2 { h = $0; next } { print; print h }' sorted > shuffled
	run -1 --separate-stderr logalert -r r.conf --resolve < sorted
	printf '%s\n' "$output" > expected
	run -1 --separate-stderr logalert -r r.conf --resolve --max-lateness 5s < shuffled
	printf '%s\n' "$output" > actual
	expect_same expected actual
	[ "$stderr" = "" ]
	run -0 --separate-stderr logalert -r r.conf --resolve --summary < shuffled
	[ "$stderr" = "logalert: <stdin>:2: record at 2025-05-17T10:00:00.000000000Z is older than the clock allows (--max-lateness), skipped
logalert: <stdin>:4: record at 2025-05-17T10:00:02.000000000Z is older than the clock allows (--max-lateness), skipped
logalert: <stdin>:6: record at 2025-05-17T10:00:04.500000000Z is older than the clock allows (--max-lateness), skipped" ]
	[ "$(tail -n 1 <<< "$output" | jq -c '.summary | [.records, .late]')" = '[6,3]' ]
}

@test "logalert: clock jumps in the data: forward resolves at the true times, backward is late" {
	printf '[two]\nquery = *\nthreshold = 2\nwindow = 1m\n' > r.conf
	{ r 0; r 1; r 3600; r 5; r 3601; } > in
	run -1 --separate-stderr logalert -r r.conf --resolve --summary < in
	head -n -1 <<< "$output" > ev
	jq -c '[._time[11:], .state, .count]' ev > actual
	printf '%s\n' '["10:00:01.000000000Z","firing",2]' '["10:01:00.000000000Z","resolved",1]' \
		'["11:00:01.000000000Z","firing",2]' > expected
	expect_same expected actual
	[ "$stderr" = "logalert: <stdin>:4: record at 2025-05-17T10:00:05.000000000Z is older than the clock allows (--max-lateness), skipped" ]
	[ "$(tail -n 1 <<< "$output" | jq .summary.late)" = 1 ]
}

@test "logalert: --clock now: arrival time for records without timestamps; idle time resolves" {
	printf '[burst]\nquery = boom\nthreshold = 3\nwindow = 1s\n' > r.conf
	run -1 --separate-stderr bash -c '{ printf "%s\n" "{\"_msg\":\"boom 1\"}" "{\"_msg\":\"boom 2\"}" "not json" "{\"_msg\":\"boom 3\"}"; sleep 2.5; } | logalert -r r.conf --clock now --resolve'
	[ "$(jq -c '[.state, .count]' <<< "$output" | tr '\n' ' ')" = '["firing",3] ["resolved",2] ' ]
	[ "$stderr" = "logalert: <stdin>:3: invalid JSON at column 2: null expected" ]
	# the times are the wall clock's: resolved a window after the first record
	t1=$(jq -r ._time <<< "$output" | head -n 1)
	t2=$(jq -r ._time <<< "$output" | tail -n 1)
	d=$(( $(date -d "$t2" +%s%N) - $(date -d "$t1" +%s%N) ))
	[ "$d" -gt 500000000 ] && [ "$d" -le 1000000000 ]
	now=$(date +%s)
	[ $(( now - $(date -d "$t1" +%s) )) -lt 60 ]
}

@test "logalert: --clock now: wall clock jumps (libfaketime) move neither the windows nor the event times" {
	lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
	[ -n "$lib" ] || skip "no libfaketime (Debian faketime)"
	printf '[burst]\nquery = boom\nthreshold = 3\nwindow = 2s\n' > r.conf
	for jump in +3600 -3600; do
		echo +0 > ft
		run -1 --separate-stderr bash -c "{ printf '%s\n' '{\"_msg\":\"boom\"}' '{\"_msg\":\"boom\"}' '{\"_msg\":\"boom\"}'; sleep 0.5; echo $jump > ft; sleep 3; } |
			ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$PWD/ft FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 logalert -r r.conf --clock now --resolve"
		[ "$(jq -c '[.state, .count]' <<< "$output" | tr '\n' ' ')" = '["firing",3] ["resolved",2] ' ]
		t1=$(jq -r ._time <<< "$output" | head -n 1)
		t2=$(jq -r ._time <<< "$output" | tail -n 1)
		d=$(( $(date -d "$t2" +%s%N) - $(date -d "$t1" +%s%N) ))
		# resolved two seconds (of the monotonic clock) after the first record, not an hour off
		[ "$d" -gt 1500000000 ] && [ "$d" -le 2000000000 ]
	done
}

@test "logalert: replay determinism: whole, slow chunked pipe, split runs with --state, shuffled with --max-lateness" {
	"$B/loggen" events --seed 11 --size 1500000 > ev.jsonl
	cat > r.conf <<-'EOF'
	[node-errors]
	query = severity:ERROR | stats by (node) count()
	threshold = 15
	window = 10s
	cooldown = 5s
	description = {{$count}} errors on {{node}}, last: {{line}}
	[stall-uniq]
	query = type:REACTOR_STALLED | stats by (node) count_uniq(event_id) as u, avg(event_timestamp) as a
	threshold = u >= 4
	window = 3s
	[quiet-db]
	query = base:DatabaseLogEvent | stats by (node) count()
	threshold = count < 2
	window = 2s
	cooldown = 10s
	[spread]
	query = * | stats by (base) max(event_timestamp) as mx, min(event_timestamp) as mn, quantile(0.9, event_timestamp) as q
	threshold = q > 1747456900
	window = 1s
	cooldown = 2s
	EOF
	opts="-r r.conf --time-field event_timestamp --resolve"
	run -1 --separate-stderr logalert $opts < ev.jsonl
	printf '%s\n' "$output" > whole
	[ "$(wc -l < whole)" -gt 100 ]
	# random chunk sizes with pauses: the reader sees the lines cut anywhere
	cat > pace.py <<-'EOF'
	import os, random, sys, time
	d = open(sys.argv[1], "rb").read(); rnd = random.Random(5); i = 0
	while i < len(d):
	    n = rnd.randint(1, 8192); os.write(1, d[i:i + n]); i += n
	    if rnd.random() < 0.02: time.sleep(0.01)
	EOF
	run -1 --separate-stderr bash -c "python3 pace.py ev.jsonl | logalert $opts"
	printf '%s\n' "$output" > chunked
	expect_same whole chunked
	# five cron-like runs carrying windows and alerts in --state
	split -n l/5 ev.jsonl part.
	: > split
	for p in part.*; do logalert $opts --state st.json < "$p" >> split || true; done
	expect_same whole split
	[ -z "$(ls st.json.tmp* 2>/dev/null)" ]
	# out of order (each pair of lines swapped), put back in order by --max-lateness
	awk 'NR % 2 { h = $0; next } { print; print h } END { if (NR % 2) print h }' ev.jsonl > shuffled
	run -1 --separate-stderr logalert $opts --max-lateness 1s < shuffled
	printf '%s\n' "$output" > reordered
	expect_same whole reordered
}

@test "logalert: --state: a second cron run over the same input fires nothing" {
	printf '[any]\nquery = error\nwindow = 1m\n' > r.conf
	{ r 0 '"_msg":"error"'; r 5 '"_msg":"error"'; } > in
	run -1 --separate-stderr logalert -r r.conf --state st < in
	[ "$(echo "$output" | wc -l)" = 1 ]
	run -0 --separate-stderr logalert -r r.conf --state st < in
	[ "$output" = "" ]
	[ "$stderr" = "logalert: 1 records older than the restored clock were skipped (seen before)" ]
	# new records only: the open alert does not fire again, the state moves on
	r 20 '"_msg":"error"' > more
	run -0 --separate-stderr logalert -r r.conf --state st < more
	[ "$output" = "" ]
	[ "$(jq -c '[.clock, .rules[0].groups[0].open]' st)" = "[$((T0 + 20))000000000,true]" ]
	# a broken state file is an error, not a fresh start
	echo '{"version":1' > st
	run -2 --separate-stderr logalert -r r.conf --state st < in
	[ "$stderr" = "logalert: st: bad state file: not a JSON object (remove it to start afresh)" ]
	echo '{"version":7}' > st
	run -2 --separate-stderr logalert -r r.conf --state st < in
	[ "$stderr" = "logalert: st: state file version 7 is not known to this logalert (1)" ]
	run -2 --separate-stderr logalert -r r.conf --state nodir/st < in
	[[ "$stderr" == "logalert: nodir/st: No such file or directory" ]]
}

@test "logalert: SIGTERM while waiting for input: the state is saved, then it dies of the signal" {
	printf '[any]\nquery = *\nwindow = 1h\n' > r.conf
	mkfifo fifo
	{ r 0; exec sleep 30; } > fifo 3>&- &
	writer=$!
	logalert -r r.conf --state st < fifo > out 2> err 3>&- &
	pid=$!
	for _ in $(seq 100); do [ -s out ] && break; sleep 0.05; done
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	kill $writer
	[ "$rc" = 143 ]
	[ "$(jq -r .state out)" = firing ]
	[ "$(jq -c '[.clock, .rules[0].groups[0].open]' st)" = "[${T0}000000000,true]" ]
	[ ! -s err ]
}

@test "logalert: --history appends events; --load-history keeps open alerts from firing again" {
	printf '[two]\nquery = *\nthreshold = 2\nwindow = 1m\n' > r.conf
	{ r 0; r 1; r 2; } > a
	{ r 3; r 4; } > b
	run -1 --separate-stderr logalert -r r.conf --history h < a
	[ "$(wc -l < h)" = 1 ]
	[ "$(cat h)" = "$output" ]
	# without the history the second batch fires again (its window starts empty)
	run -1 --separate-stderr logalert -r r.conf < b
	run -0 --separate-stderr logalert -r r.conf --history h --load-history < b
	[ "$output" = "" ]
	[ "$(wc -l < h)" = 1 ]
	run -2 --separate-stderr logalert -r r.conf --load-history < b
	[ "$stderr" = "logalert: --load-history reads the --history file: give one" ]
}

@test "logalert: thresholds on stats values, per group: avg, quantile, count_uniq, and a below rule" {
	cat > r.conf <<-'EOF'
	[slow]
	query = _msg:request | stats by (host) avg(ms) as lat, quantile(0.5, ms) as p50
	threshold = lat > 100
	window = 10s
	[p50]
	query = _msg:request | stats by (host) avg(ms) as lat, quantile(0.5, ms) as p50
	threshold = p50 >= 300
	window = 10s
	[users]
	query = login | stats count_uniq(user)
	threshold = >= 3
	window = 10s
	[silent]
	query = heartbeat | stats by (host) count()
	threshold = count < 1
	window = 5s
	EOF
	{ r 0 '"_msg":"heartbeat","host":"a"'; r 0 '"_msg":"heartbeat","host":"b"'
	  r 1 '"_msg":"request","host":"a","ms":50'; r 2 '"_msg":"request","host":"a","ms":"170"'
	  r 3 '"_msg":"request","host":"b","ms":"n/a"'; r 3 '"_msg":"request","host":"b","ms":300'
	  r 4 '"_msg":"login","user":"x"'; r 4 '"_msg":"login","user":"x"'; r 4 '"_msg":"login","user":"y"'
	  r 4 '"_msg":"heartbeat","host":"a"'; r 6 '"_msg":"login","user":"z"'; r 8 '"_msg":"x"'; } > in
	run -1 --separate-stderr logalert -r r.conf --resolve < in
	jq -c '[._time[17:19], .alert, .state, .value, .group]' <<< "$output" > actual
	cat > expected <<-'EOF'
	["02","slow","firing",110,{"host":"a"}]
	["03","slow","firing",300,{"host":"b"}]
	["03","p50","firing",300,{"host":"b"}]
	["05","silent","firing",0,{"host":"b"}]
	["06","users","firing",3,{}]
	EOF
	expect_same expected actual
	[ "$stderr" = "" ]
}

@test "logalert: thousands of groups; --max-groups caps them with one warning" {
	awk -v t0=$T0 'BEGIN { for (i = 0; i < 6000; i++) for (k = 0; k < 2; k++)
		printf "{\"_time\":%d,\"_msg\":\"fail\",\"host\":\"h%05d\"}\n", t0 + i, i }' > in
	printf '[per-host]\nquery = fail | stats by (host) count()\nthreshold = 2\nwindow = 1s\n' > r.conf
	run -1 --separate-stderr logalert -r r.conf --summary < in
	[ "$(grep -c '"state":"firing"' <<< "$output")" = 6000 ]
	[ "$(tail -n 1 <<< "$output" | jq -c '.summary.rules[0] | [.fired, .dropped]')" = '[6000,0]' ]
	# a window long enough to hold every host
	printf '[per-host]\nquery = fail | stats by (host) count()\nthreshold = 2\nwindow = 1d\n' > r.conf
	run -1 --separate-stderr logalert -r r.conf --max-groups 1000 --summary < in
	[ "$stderr" = "logalert: rule 'per-host': --max-groups 1000 reached: records of new groups are not counted" ]
	[ "$(grep -c '"state":"firing"' <<< "$output")" = 1000 ]
	[ "$(tail -n 1 <<< "$output" | jq -c '.summary.rules[0] | [.fired, .groups, .dropped]')" = '[1000,1000,10000]' ]
}

@test "logalert: a rules file with every kind of mistake; --check reads no input" {
	cat > bad.conf <<-'EOF'
	query = before any rule
	[db errors!]
	treshold = 3
	query = error | sort by (x)
	window = 0s
	cooldown = soon
	severity = urgent
	labels = alertname=x, 9bad=y
	description = {{$nope}}
	summary = {{open
	enabled = maybe
	query = again
	[ok]
	query = (unclosed
	[dup]
	query = a
	[dup]
	query = b
	[thr]
	query = a | stats avg(x) as lat
	threshold = p99 > 5
	[rel]
	query = _time:5m error
	[nokey]
	just words
	EOF
	run -2 --separate-stderr logalert -r bad.conf --check <&-
	[ "$output" = "" ]
	cat > expected <<-'EOF'
	logalert: bad.conf:1: 'query' outside a rule: start one with a [name] line
	logalert: bad.conf:2: bad rule name 'db errors!' (want 1..128 of A-Z a-z 0-9 _ . : - / and inner spaces)
	logalert: bad.conf:3: unknown key 'treshold' (did you mean 'threshold'?)
	logalert: bad.conf:5: window: bad duration '0s' (e.g. 30s, 2m, 1h30m; more than 0)
	logalert: bad.conf:6: cooldown: bad duration 'soon' (e.g. 30s, 2m, 1h30m)
	logalert: bad.conf:7: severity: 'urgent' is not one of low, medium, high, critical
	logalert: bad.conf:8: label 'alertname' is set by logalert (use the rule's name)
	logalert: bad.conf:9: annotation 'description': unknown variable '{{$nope}}' (known: $rule, $severity, $state, $count, $value, $threshold, $window, $first, $last, $time)
	logalert: bad.conf:10: annotation 'summary': unterminated '{{' (missing '}}')
	logalert: bad.conf:11: enabled: expected true or false, not 'maybe'
	logalert: bad.conf:12: duplicate key 'query' (first given at line 4)
	logalert: bad.conf:14: query: column 10: unexpected end of query, expected ')'
	logalert: bad.conf:17: duplicate rule name 'dup' (first at line 15)
	logalert: bad.conf:21: threshold: the query computes no value named 'p99' (it has 'lat')
	logalert: bad.conf:23: query: a relative _time filter has no fixed 'now' in a rule (the window says how far back to look)
	logalert: bad.conf:25: expected 'key = value' or a [name] line, got 'just words'
	logalert: bad.conf:24: rule 'nokey' has no query
	EOF
	printf '%s\n' "$stderr" > actual
	expect_same expected actual
	# the same without --check, before any input is read
	run -2 --separate-stderr logalert -r bad.conf <&-
	printf '%s\n' "$stderr" > actual
	expect_same expected actual
	printf '[fine]\nquery = *\n' > ok.conf
	run -0 --separate-stderr logalert -r ok.conf --check <&-
	[ "$output$stderr" = "" ]
	run -2 --separate-stderr logalert -r missing.conf --check
	[ "$stderr" = "logalert: missing.conf: No such file or directory" ]
	printf '\x00\x01\xff\xfe[x]\n' > bin.conf
	run -2 --separate-stderr logalert -r bin.conf --check
	[ "$stderr" = "logalert: bin.conf:1: NUL byte (not a text file?)
logalert: bin.conf: no rules (a rule starts with a [name] line)" ] || [ "$stderr" = "logalert: bin.conf:1: NUL byte (not a text file?)" ]
	run -2 --separate-stderr logalert --check
	[[ "$stderr" == "usage: logalert -r rules"* ]]
}

@test "logalert: malformed, truncated, binary and huge records are reported by line and skipped" {
	printf '[any]\nquery = *\nthreshold = 2\nwindow = 1m\n' > r.conf
	{
		r 0
		echo '{"_time": 1747476001, "a": '
		echo '[1,2,3]'
		printf '{"_time":1747476002}\x00junk\n'
		printf '\x89PNG\r\n\x1a\xff\xfe\x00\x01binary\n'
		echo '{"_time":1747476003} trailing'
		echo '{"_msg":"no time"}'
		head -c $((17 * 1048576)) /dev/zero | tr '\0' 'a' | sed 's/^/{"_msg":"/; s/$/"}/'
		echo
		printf '{"_time":1747476004}'	# no final newline
	} > in
	run -1 --separate-stderr logalert -r r.conf --summary < in
	cat > expected <<-'EOF'
	logalert: <stdin>:2: truncated JSON
	logalert: <stdin>:3: not a JSON object
	logalert: <stdin>:4: NUL byte in line
	logalert: <stdin>:5: invalid JSON at column 1: unexpected character
	logalert: <stdin>:6: NUL byte in line
	logalert: <stdin>:7: invalid JSON at column 22: unexpected character
	logalert: <stdin>:8: no usable _time (see --time-field, or --clock now)
	logalert: <stdin>:9: record longer than 16777216 bytes, skipped
	EOF
	printf '%s\n' "$stderr" > actual
	expect_same expected actual
	[ "$(head -n 1 <<< "$output" | jq -c '[._time, .count]')" = '["2025-05-17T10:00:04.000000000Z",2]' ]
	[ "$(tail -n 1 <<< "$output" | jq -c '.summary | [.records, .malformed, .untimed]')" = '[10,7,1]' ]
}

@test "logalert: a huge matching record is kept as a cut sample; --samples bounds them" {
	printf '[any]\nquery = *\nthreshold = 3\nwindow = 1m\n' > r.conf
	{ r 0 '"_msg":"small"'; printf '{"_time":1747476001,"_msg":"%s"}\n' "$(head -c 100000 /dev/zero | tr '\0' b)"; r 2 '"_msg":"last"'; } > in
	run -1 --separate-stderr logalert -r r.conf --samples 2 < in
	n=$(sed -n 2p in | tr -d '\n' | wc -c)
	[ "$(jq -c '[.samples[] | [(._msg | length), .logalert_cut_bytes]]' <<< "$output")" = "[[1024,$n],[4,null]]" ]
	run -1 --separate-stderr logalert -r r.conf --samples 0 < in
	[ "$(jq -c .samples <<< "$output")" = '[]' ]
}

@test "logalert: a closed stdout and a full disk are errors; a reader going away is quiet" {
	printf '[any]\nquery = *\n' > r.conf
	r 0 > in
	run -2 --separate-stderr bash -c 'logalert -r r.conf < in >&-'
	[ "$stderr" = "logalert: stdout: Bad file descriptor" ]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logalert -r r.conf < in > /dev/full'
	[ "$stderr" = "logalert: write error: No space left on device" ]
	for i in $(seq 0 2000); do r "$i"; done > many
	printf '[any]\nquery = *\nwindow = 1ms\n' > r.conf
	run -0 --separate-stderr bash -c 'logalert -r r.conf < many | head -c 10 > /dev/null; echo "${PIPESTATUS[0]}"'
	[ "$output" = 141 ]
	[ "$stderr" = "" ]
}

@test "logalert: --exec: the event on stdin, no shell: log data with shell syntax runs nothing" {
	printf '[hostile]\nquery = *\ndescription = got {{_msg}} from {{host}}\n' > r.conf
	cat > in <<-'EOF'
	{"_time":"2025-05-17T10:00:00Z","_msg":"$(touch pwned1); touch pwned2 `touch pwned3` | touch pwned4 && x","host":"'; touch pwned5 #"}
	EOF
	run -1 --separate-stderr logalert -r r.conf --exec "sh -c 'cat >> got; echo \"rule=\$LOGALERT_RULE state=\$LOGALERT_STATE sev=\$LOGALERT_SEVERITY\" >> got'" < in
	[ -z "$(ls pwned* 2>/dev/null)" ]
	[ "$(head -n 1 got | jq -r .annotations.description)" = "got \$(touch pwned1); touch pwned2 \`touch pwned3\` | touch pwned4 && x from '; touch pwned5 #" ]
	[ "$(tail -n 1 got)" = "rule=hostile state=firing sev=medium" ]
	[ "$(jq .notified <<< "$output")" = true ]
	# what the command got is the event without "notified"
	[ "$(head -n 1 got)" = "$(jq -c 'del(.notified)' <<< "$output")" ]
	# the command's stdout goes to stderr: stdout stays JSON
	run -1 --separate-stderr logalert -r r.conf --exec "echo hello" < in
	[ "$stderr" = hello ]
	[ "$(jq -c .notified <<< "$output")" = true ]
}

@test "logalert: --exec failing: retried, reported, \"notified\": false, evaluation goes on" {
	printf '[any]\nquery = *\nwindow = 1ms\n' > r.conf
	{ r 0; r 1; } > in
	run -1 --separate-stderr logalert -r r.conf --exec false --retries 1 --backoff 1ms < in
	[ "$(jq -c .notified <<< "$output" | tr '\n' ' ')" = "false false " ]
	[ "$stderr" = "logalert: rule 'any': --exec false: exited with status 1 (after 2 attempts)
logalert: rule 'any': --exec false: exited with status 1 (after 2 attempts)" ]
	run -1 --separate-stderr logalert -r r.conf --exec /nonexistent/cmd --retries 0 --summary < in
	[[ "$stderr" == "logalert: --exec: /nonexistent/cmd: No such file or directory"* ]]
	[[ "$stderr" == *"logalert: rule 'any': --exec /nonexistent/cmd: exited with status 127 (after 1 attempts)"* ]]
	[ "$(tail -n 1 <<< "$output" | jq .summary.rules[0].notify_failed)" = 2 ]
	run -1 --separate-stderr logalert -r r.conf --exec "sleep 5" --timeout 200ms --retries 0 < <(r 0)
	[ "$stderr" = "logalert: rule 'any': --exec sleep: timed out (after 1 attempts)" ]
	run -2 --separate-stderr logalert -r r.conf --exec "sh -c 'oops" < in
	[ "$stderr" = "logalert: --exec: unterminated quote" ]
}

@test "logalert: --webhook: the event as JSON, a bearer token from a file, retries, and a dead endpoint" {
	python3 "$TOP/tests/servers/amreceiver.py" --port-file port --log got --token 's3cret' --fail 2 --lifetime 30 &
	pid=$!
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
	printf 's3cret\n' > token
	printf '[any]\nquery = *\n' > r.conf
	r 0 '"_msg":"hi"' > in
	run -1 --separate-stderr logalert -r r.conf --webhook "http://127.0.0.1:$(cat port)/hook" \
		--webhook-token-file token --retries 3 --backoff 1ms < in
	[ "$stderr" = "" ]
	[ "$(jq -c .notified <<< "$output")" = true ]
	[ "$(jq -c '[.path, .authorization]' got)" = '["/hook","Bearer s3cret"]' ]
	[ "$(jq -c .body got)" = "$(jq -c 'del(.notified)' <<< "$output")" ]
	# no token: refused, permanent (401 is not retried)
	run -1 --separate-stderr logalert -r r.conf --webhook "http://127.0.0.1:$(cat port)/hook" --backoff 1ms < in
	[ "$stderr" = "logalert: rule 'any': --webhook http://127.0.0.1:$(cat port)/hook: HTTP 401: bad or missing bearer token" ]
	[ "$(jq -c .notified <<< "$output")" = false ]
	kill $pid
	# nobody listening: reported after the retries, the event is still written
	port=$(free_port)
	run -1 --separate-stderr logalert -r r.conf --webhook "http://127.0.0.1:$port/" --retries 2 --backoff 1ms < in
	[[ "$stderr" == "logalert: rule 'any': --webhook http://127.0.0.1:$port/: "*"(after 3 attempts)" ]]
	[ "$(jq -c '[.alert, .notified]' <<< "$output")" = '["any",false]' ]
	run -2 --separate-stderr logalert -r r.conf --webhook "http://127.0.0.1:$port/" --webhook-token-file nofile < in
	[ "$stderr" = "logalert: nofile: No such file or directory" ]
	run -2 --separate-stderr logalert -r r.conf --webhook "ftp://x/" < in
	[ "$stderr" = "logalert: ftp://x/: URL must start with http:// or https://" ]
}

@test "logalert: libcurl is loaded only for --webhook and --alertmanager; one that cannot be is named" {
	run -0 ldd "$(command -v logalert)"
	[[ "$output" == *libc.so* && "$output" != *libcurl* ]]
	printf '[any]\nquery = *\n' > r.conf
	r 0 '"_msg":"hi"' > in
	# the loader's account of a run: no notifier, or --exec, never maps libcurl, not even at exit
	run -1 --separate-stderr env LD_DEBUG=files logalert -r r.conf --exec true < in
	[[ "$(jq -r .alert <<< "$output")" = any && "$stderr" == *"file=libc.so.6 "* && "$stderr" != *libcurl* ]]
	port=$(free_port)
	run -1 --separate-stderr env LD_DEBUG=files logalert -r r.conf --webhook "http://127.0.0.1:$port/" --retries 0 < in
	[[ "$stderr" == *"file=libcurl.so.4 "* ]]
	mkdir lib
	printf 'not a library\n' > lib/libcurl.so.4
	run -2 --separate-stderr env LD_LIBRARY_PATH="$T/lib" logalert -r r.conf --webhook "http://127.0.0.1:$port/" < in
	[[ "$stderr" == "logalert: --webhook: cannot load libcurl: $T/lib/libcurl.so.4: "* ]]
	[ "$(wc -l <<< "$stderr")" = 1 ] && [ "$output" = "" ]
	run -2 --separate-stderr env LD_LIBRARY_PATH="$T/lib" logalert -r r.conf --alertmanager "http://127.0.0.1:$port/" < in
	[[ "$stderr" == "logalert: --alertmanager: cannot load libcurl: $T/lib/libcurl.so.4: "* ]]
	run -1 --separate-stderr env LD_LIBRARY_PATH="$T/lib" logalert -r r.conf < in
	[ "$stderr" = "" ] && [ "$(jq -r .alert <<< "$output")" = any ]
}

@test "logalert: a real Alertmanager: alerts read back from /api/v2/alerts and through its webhook" {
	[ -n "${AMURL:-}" ] || skip "no prometheus-alertmanager"
	curl -sf "$AMURL/-/ready" > /dev/null || { cat "$A/am.log"; false; }
	cat > r.conf <<-'EOF'
	[disk-full]
	query = "no space" | stats by (host) count()
	threshold = 2
	window = 1m
	severity = critical
	labels = team=storage, env="prod eu"
	description = {{$count}} times on {{host}}: {{_msg}}
	annotation.runbook = https://wiki.example/disk
	EOF
	{ r 0 '"_msg":"no space left","host":"db-7"'; r 1 '"_msg":"no space left on /var","host":"db-7"'; } > in
	run -1 --separate-stderr logalert -r r.conf --alertmanager "$AMURL" < in
	[ "$stderr" = "" ]
	[ "$(jq -c .notified <<< "$output")" = true ]
	curl -sf "$AMURL/api/v2/alerts?filter=alertname=%22disk-full%22" > got
	jq -c '.[] | [.labels, .annotations, .startsAt, .status.state]' got > actual
	echo '[{"alertname":"disk-full","env":"prod eu","host":"db-7","severity":"critical","team":"storage"},{"description":"2 times on db-7: no space left on /var","runbook":"https://wiki.example/disk"},"2025-05-17T10:00:01.000Z","active"]' > expected
	expect_same expected actual
	[ "$(jq -r '.[0].generatorURL' got)" = "file://$PWD/r.conf#disk-full" ]
	# Alertmanager passed it on to its webhook receiver
	for _ in $(seq 50); do grep -q disk-full "$A/received" 2>/dev/null && break; sleep 0.1; done
	grep disk-full "$A/received" | head -n 1 | jq -c '.body | [.status, .alerts[0].labels.host, .alerts[0].annotations.description]' > actual
	echo '["firing","db-7","2 times on db-7: no space left on /var"]' > expected
	expect_same expected actual
	# resolved: endsAt sent, the receiver hears "resolved"
	cat > r2.conf <<-'EOF'
	[flap]
	query = flap | stats by (host) count()
	threshold = 2
	window = 10s
	EOF
	{ r 0 '"_msg":"flap","host":"h1"'; r 1 '"_msg":"flap","host":"h1"'; r 30 '"_msg":"other"'; } > in2
	run -1 --separate-stderr logalert -r r2.conf --resolve --alertmanager "$AMURL/" --generator-url 'https://logs.example/rules?name={{$rule}}' < in2
	[ "$(jq -c '[.state, .notified]' <<< "$output" | tr '\n' ' ')" = '["firing",true] ["resolved",true] ' ]
	for _ in $(seq 50); do grep '"flap"' "$A/received" 2>/dev/null | grep -q resolved && break; sleep 0.1; done
	grep '"flap"' "$A/received" | jq -c '.body.alerts[0] | [.status, .startsAt, .endsAt, .generatorURL]' | sort -u > actual
	# Alertmanager may fold the firing into the resolved notification: the latter must come
	printf '%s\n' '["firing","2025-05-17T10:00:01Z","0001-01-01T00:00:00Z","https://logs.example/rules?name=flap"]' \
		'["resolved","2025-05-17T10:00:01Z","2025-05-17T10:00:10Z","https://logs.example/rules?name=flap"]' > expected
	grep -qxF "$(tail -n 1 expected)" actual
	[ -z "$(grep -vxF -f expected actual)" ]
	# group fields become valid label names; ones logalert sets itself are kept apart
	printf '[odd]\nquery = odd | stats by (kubernetes.pod, severity) count()\n' > r3.conf
	r 0 '"_msg":"odd","kubernetes":{"pod":"p-1"},"severity":"warn"' > in3
	run -1 --separate-stderr logalert -r r3.conf --alertmanager "$AMURL" < in3
	[ "$(jq -c .notified <<< "$output")" = true ]
	curl -sf "$AMURL/api/v2/alerts?filter=alertname=%22odd%22" | jq -c '.[0].labels' > actual
	echo '{"alertname":"odd","group_severity":"warn","kubernetes_pod":"p-1","severity":"medium"}' > expected
	expect_same expected actual
	# Alertmanager down: reported, not fatal
	run -1 --separate-stderr logalert -r r.conf --alertmanager "http://127.0.0.1:$(free_port)" --retries 0 < in
	[[ "$stderr" == "logalert: rule 'disk-full': --alertmanager http://127.0.0.1:"*"/api/v2/alerts: "* ]]
	[ "$(jq -c .notified <<< "$output")" = false ]
}

@test "logalert: --summary as JSON and as Prometheus text that promtool accepts" {
	cat > r.conf <<-'EOF'
	[errors]
	query = error | stats by (host) count()
	threshold = 2
	window = 1m
	severity = high
	[off]
	query = *
	enabled = no
	EOF
	{ r 0 '"_msg":"error","host":"a"'; r 1 '"_msg":"error","host":"a"'; r 2 '"_msg":"fine"'; echo 'junk'; } > in
	run -1 --separate-stderr logalert -r r.conf -q --summary < in
	[ "$output" = '{"summary":{"records":4,"malformed":1,"late":0,"untimed":0,"seen":0,"fired":1,"rules":[{"rule":"errors","severity":"high","matched":2,"fired":1,"resolved":0,"suppressed":0,"open":1,"groups":1,"dropped":0,"notify_failed":0}]}}' ]
	run -1 --separate-stderr logalert -r r.conf -q --summary --format prometheus < in
	printf '%s\n' "$output" > metrics
	grep -qx 'logalert_alerts_fired_total{rule="errors",severity="high"} 1' metrics
	grep -qx 'logalert_records_malformed_total 1' metrics
	grep -qx 'logalert_alerts_open{rule="errors",severity="high"} 1' metrics
	command -v promtool > /dev/null || skip "no promtool"
	run -0 promtool check metrics < metrics
	[ "$output" = "" ]
	run -2 --separate-stderr logalert -r r.conf --format prometheus < in
	[ "$stderr" = "logalert: --format is the format of --summary" ]
}

@test "logalert: --time-field with epoch seconds; disabled rules; options checked" {
	printf '[e]\nquery = boom\nthreshold = 2\nwindow = 1s\n[off]\nquery = *\nenabled = false\n' > r.conf
	printf '%s\n' '{"ts":1747476000.25,"_msg":"boom"}' '{"ts":"1747476000.75","_msg":"boom"}' > in
	run -1 --separate-stderr logalert -r r.conf --time-field ts < in
	[ "$(jq -r ._time <<< "$output")" = "2025-05-17T10:00:00.750000000Z" ]
	# times so far off that window arithmetic could overflow count as none
	printf '%s\n' '{"_time":"2250-01-01T00:00:00Z","_msg":"boom"}' '{"_time":-9e18,"_msg":"boom"}' > far
	run -0 --separate-stderr logalert -r r.conf < far
	[ "$stderr" = "logalert: <stdin>:1: no usable _time (see --time-field, or --clock now)
logalert: <stdin>:2: no usable _time (see --time-field, or --clock now)" ]
	printf '[off]\nquery = *\nenabled = no\n' > off.conf
	run -0 --separate-stderr logalert -r off.conf < in
	[ "$stderr" = "logalert: off.conf: every rule is disabled" ]
	run -2 --separate-stderr logalert -r r.conf --clock later < in
	[ "$stderr" = "logalert: --clock: expected event or now, not 'later'" ]
	run -2 --separate-stderr logalert -r r.conf --max-lateness soon < in
	[ "$stderr" = "logalert: --max-lateness: bad duration 'soon' (e.g. 500ms, 30s, 2m)" ]
	run -2 --separate-stderr logalert -r r.conf --max-groups 0 < in
	[ "$stderr" = "logalert: --max-groups: expected a number from 1 to 100000000, not '0'" ]
	run -0 logalert --version
	[ "$output" = "logalert 0.1.0" ]
	run -0 logalert --help
	[[ "$output" == "usage: logalert -r rules"* ]]
}

@test "logalert: a word is found at every offset of the line and at its end; near misses and binary bytes are not matches" {
	# the raw-line pre-filter (tok_find) must never drop a record the query matches
	cat > r.conf <<-'EOF2'
	[core]
	query = coredump | stats count()
	threshold = 1000
	window = 1h
	EOF2
	pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
	for i in $(seq 0 40); do r "$i" "\"_msg\":\"${pad:0:$i} coredump\""; done > in
	# first and last bytes right, middle wrong; the word cut by the line's end; binary bytes
	{ r 50 '"_msg":"cxxxxxxp coredum"'; r 51 '"_msg":"coredumpx"'; printf '\x00\x01coredump\xff\n'; } >> in
	run -0 --separate-stderr logalert -r r.conf -q --summary < in
	[ "$(jq -c '.summary | [.records, .malformed, .rules[0].matched]' <<<"$output")" = '[44,1,41]' ]
}
