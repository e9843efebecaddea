#!/usr/bin/env bats
# logq -d: queries on a logindex directory give what the same query gives over the same records on stdin; --explain, damage, versions, readers during writes.
bats_require_minimum_version 1.5.0
load helper

NOW=2025-05-17T05:00:00Z

local_setup() {
	LG=$B/loggen
	[ -x "$LG" ] || LG=$TOP/build/loggen
	[ -x "$LG" ] || skip "loggen not built"
}

# The shared index (built once per file): runs R and S of actions, events
# of run R, and an app's requests, in four commits (four parts of one
# day); dump.jsonl holds every record of the index as logq -d prints them.
setup_file() {
	local lg=$B/loggen
	[ -x "$lg" ] || lg=$LOGKIT_TOP/build/loggen
	[ -x "$lg" ] || return 0
	cd "$BATS_FILE_TMPDIR" || return 1
	"$lg" actions --count 20000 > actions.jsonl
	"$lg" events --count 20000 > events.jsonl
	"$lg" app --count 20000 > app.jsonl
	logindex -d idx -l stream=action -l run_id=R --time-field datetime --msg-field action < actions.jsonl
	"$lg" actions --count 3000 --seed 2 |
		logindex -d idx -l stream=action -l run_id=S --time-field datetime --msg-field action
	logindex -d idx -l stream=events -l run_id=R --time-field event_timestamp --msg-field line < events.jsonl
	logindex -d idx -l app=shop --time-field time --msg-field msg --stream-fields source < app.jsonl
	logq -d idx '*' > dump.jsonl
}

# build_index: a private copy of the shared index and its inputs.
build_index() {
	cp -R "$BATS_FILE_TMPDIR/idx" "$BATS_FILE_TMPDIR"/*.jsonl .
	[ "$(wc -l < dump.jsonl)" -eq 63000 ]
}

# same QUERY [sorted]: logq -d idx and logq over dump.jsonl print the
# same lines (as sets when "sorted": an index gives no global order
# without a sort pipe); prints how many, for the caller's checks.
same() {
	run -0 --separate-stderr logq -d idx --now "$NOW" "$1"
	[ -z "$stderr" ] || { echo "stderr: $stderr"; return 1; }
	printf '%s\n' "$output" > from-index
	run -0 --separate-stderr logq --now "$NOW" "$1" < dump.jsonl
	printf '%s\n' "$output" > from-stdin
	if [ "${2:-}" = sorted ]; then
		sort -o from-index from-index
		sort -o from-stdin from-stdin
	fi
	expect_same from-stdin from-index
	wc -l < from-index
}

@test "logq -d: the index holds the records that were indexed" {
	build_index
	# the app's records, with logindex's renames undone, as logq reads them on stdin
	run -0 --separate-stderr logq -d idx '{app="shop"} | fields _time, _msg, level, source, customer, latency'
	printf '%s\n' "$output" | sort > from-index
	logq '* | fields time, msg, level, source, customer, latency' < app.jsonl |
		sed 's/^{"time":/{"_time":/; s/,"msg":/,"_msg":/' | sort > from-stdin
	expect_same from-stdin from-index
	[ "$(wc -l < from-index)" -eq 20000 ]
}

@test "logq -d: seed: stream selector and a closed time range" {
	build_index
	run -0 same '{stream="action", run_id="R"} _time:[2025-05-17T04:44:00Z,2025-05-17T04:45:00Z]' sorted
	want=$(jq -r 'select(.datetime >= "2025-05-17T04:44:00" and .datetime < "2025-05-17T04:45:01") | .datetime' actions.jsonl | wc -l)
	[ "$output" -eq "$want" ]
	[ "$output" -gt 100 ]
}

@test "logq -d: seed: exact uuid with limit 1" {
	build_index
	id=$(sed -n 7777p events.jsonl | jq -r .event_id)
	run -0 same "{stream=\"events\", run_id=\"R\"} event_id:=\"$id\" | limit 1"
	[ "$output" -eq 1 ]
	grep -q "\"event_id\":\"$id\"" from-index
}

@test "logq -d: seed: errors by type, most frequent first" {
	build_index
	run -0 same '{stream="events"} severity:ERROR | stats by (type) count() as n | sort by (n desc)'
	[ "$output" -gt 5 ]
	# the counts, from the raw events with jq
	jq -r 'select(.severity == "ERROR") | .type' events.jsonl | sort | uniq -c |
		awk '{ print $2, $1 }' | sort > want
	jq -r '"\(.type) \(.n)"' from-index | sort > got
	expect_same want got
}

@test "logq -d: seed: pagination with sort, offset and limit" {
	build_index
	run -0 same 'level:error source:db | sort by (_time desc) | offset 50 | limit 50'
	[ "$output" -eq 50 ]
}

@test "logq -d: seed: histogram by minute over the last hour" {
	build_index
	run -0 same '_time:1h | stats by (_time:1m) count()'
	[ "$output" -ge 8 ]
	[ "$(jq -s 'map(."count(*)" | tonumber) | add' from-index)" -eq 63000 ]
}

@test "logq -d: seed: quantile and sum for one customer" {
	build_index
	run -0 same 'customer:cust_1 | stats quantile(0.99, latency) as p99, sum(latency) as total'
	[ "$output" -eq 1 ]
	n=$(jq -r 'select(.customer == "cust_1") | .latency' app.jsonl | wc -l)
	[ "$n" -gt 100 ]
}

@test "logq -d: more filters and pipes agree with stdin" {
	build_index
	id=$(sed -n 123p events.jsonl | jq -r .event_id)
	for q in 'reactor stalled' '"node-407cb58b-3"' 'compac*' 'severity:in(CRITICAL, DEBUG)' \
	    'i(BACKTRACE)' 'latency:range[100, 120)' 'latency:>199' 'node:~"node-.*-1[0-2]$"' \
	    '{run_id=~"S|T"} -source:sct' 'NOT {stream="events"} target:*' 'customer:""' \
	    "event_id:$id OR event_id:=\"$id\"" '_time:>2025-05-17T04:48:00Z' \
	    '_stream:{stream!="action"} (level:warn OR severity:WARNING)' 'status:=info | fields source' \
	    'nothing_matches_this_at_all | stats count()' '* | delete _stream, _time | limit 3'; do
		run -0 same "$q" sorted
	done
	for q in '* | stats by (_stream) count() n' '* | stats count_uniq(node) u, min(latency), max(latency), avg(latency)' \
	    '* | top 5 by (source)' '{stream="events"} | uniq by (severity) | sort by (severity)' \
	    'latency:* | sort by (latency desc, _time) limit 7' \
	    '* | stats by (level) count() c | filter c:>1000 | sort by (level)'; do
		run -0 same "$q"
	done
}

@test "logq -d: output formats and exit status like grep" {
	build_index
	for o in table logfmt raw csv; do
		run -0 --separate-stderr logq -d idx -o $o 'level:error customer:cust_3 | sort by (_time) | limit 5'
		printf '%s\n' "$output" > from-index
		run -0 --separate-stderr logq -o $o 'level:error customer:cust_3 | sort by (_time) | limit 5' < dump.jsonl
		printf '%s\n' "$output" > from-stdin
		expect_same from-stdin from-index
	done
	run -1 --separate-stderr logq -d idx 'nothing_matches_this_at_all'
	[ "$output" = "" ] && [ "$stderr" = "" ]
	run -1 --separate-stderr logq -d idx '_time:[2030-01-01, 2030-01-02)'
	run -2 --separate-stderr logq -d idx '*' extra-operand
	[ "$stderr" = "logq: -d: no file operands with an index" ]
	run -2 --separate-stderr logq -d idx 'a | nope'
	[ "$stderr" = "logq: query:1:5: unknown pipe 'nope'" ]
}

@test "logq -d --explain: a rare token skips blocks by bloom filter" {
	build_index
	id=$(sed -n 4321p events.jsonl | jq -r .event_id)
	run -0 --separate-stderr logq -d idx "event_id:\"$id\""
	[ "${#lines[@]}" -eq 1 ]
	run -0 --separate-stderr logq -d idx --explain "event_id:=\"$id\""
	[ "${#lines[@]}" -eq 1 ]
	blocks=$(sed -n 's/.*explain: blocks \([0-9]*\), skipped \([0-9]*\): .*by token filter \([0-9]*\),.*/\1 \2 \3/p' <<<"$stderr")
	read -r nb skipped bytoken <<<"$blocks"
	[ "$nb" -gt 10 ]
	[ "$bytoken" -gt 0 ]
	[ "$skipped" -eq $((nb - 1)) ]
	[[ "$stderr" == *"explain: blocks read 1, "*"records matched 1, output 1"* ]]
}

@test "logq -d --explain: time range and stream filters skip blocks" {
	build_index
	run -0 --separate-stderr logq -d idx --explain '_time:[2025-05-17T04:41:00Z, 2025-05-17T04:41:10Z) | stats count()'
	[[ "$stderr" =~ skipped\ [0-9]+:\ by\ time\ ([0-9]+), ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
	[[ "$stderr" == *"explain: fields read: _time"* ]]
	run -0 --separate-stderr logq -d idx --explain '{stream="events"} | stats count()'
	[ "$output" = '{"count(*)":"20000"}' ]
	[[ "$stderr" =~ by\ stream\ ([0-9]+), ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
	run -1 --separate-stderr logq -d idx --explain 'latency:>100000'
	[[ "$stderr" =~ by\ range\ ([1-9][0-9]*) ]]
	[[ "$stderr" == *"blocks read 0,"* ]]
	run -1 --separate-stderr logq -d idx --explain 'no_such_field:x'
	[[ "$stderr" =~ by\ field\ ([1-9][0-9]*), ]]
	[[ "$stderr" == *"blocks read 0,"* ]]
}

@test "logq -d: a damaged part is skipped with a warning naming it" {
	build_index
	part=$(ls idx/*/*.part | head -1)
	all=$(logq -d idx '* | stats count()' | jq -r '."count(*)"')
	[ "$all" -eq 63000 ]
	# flip bytes of the first block's first column: its checksum fails when it is read
	printf '\xff\xfe\xfd\xfc' | dd of="$part" bs=1 seek=40 conv=notrunc status=none
	run -0 --separate-stderr logq -d idx '*'
	[ "$stderr" = "logq: $part: bad column checksum (offset 32)" ]
	[ "${#lines[@]}" -eq 43000 ]
	# a truncated part is left out when the snapshot is opened
	truncate -s 1000 "$part"
	run -0 --separate-stderr logq -d idx --explain '* | stats count()'
	[[ "$stderr" == "logq: $part: "*"(truncated part?)"* ]]
	[[ "$stderr" == *"explain: index idx: parts 4, skipped by time 0, damaged 1"* ]]
	[ "$(jq -r '."count(*)"' <<<"$output")" -eq $((63000 - 20000)) ]
}

@test "logq -d: a newer format version, a missing MANIFEST, not a directory: status 2" {
	logindex -d idx < "$FIX/logq/records.jsonl"
	cp idx/MANIFEST saved
	printf '\x03' | dd of=idx/MANIFEST bs=1 seek=8 conv=notrunc status=none
	run -2 --separate-stderr logq -d idx '*'
	[ "$stderr" = "logq: idx/MANIFEST: format version 3 is not supported (this build reads version 2) (offset 8)" ]
	[ "$output" = "" ]
	cp saved idx/MANIFEST
	part=$(ls idx/*/*.part)
	printf '\x07' | dd of="$part" bs=1 seek=8 conv=notrunc status=none
	run -1 --separate-stderr logq -d idx '*'
	[[ "$stderr" == "logq: $part: format version 7 is not supported (this build reads versions 2 to 3)"* ]]
	rm idx/MANIFEST
	run -2 --separate-stderr logq -d idx '*'
	[ "$stderr" = "logq: idx: no MANIFEST (not a logindex directory)" ]
	run -2 --separate-stderr logq -d nosuchdir '*'
	[[ "$stderr" == "logq: nosuchdir"* ]]
	head -c 100 /dev/urandom > idx/MANIFEST
	run -2 --separate-stderr logq -d idx '*'
	[[ "$stderr" == "logq: idx/MANIFEST: "* ]]
}

@test "logq -d: an index of version 2 reads as before and merges with the version 3 parts added to it" {
	cp -r "$FIX/logq/idx-v2" old
	logq -d old '*' > v2.out
	[ "$(wc -l < v2.out)" -eq 300 ]
	# the same records written now; lowercase uuids go as 16 bytes a row
	grep -v '"event_id": "[^"]*[A-F]' "$FIX/logq/uuid.jsonl" > lower.jsonl
	logindex -d new < lower.jsonl
	[ "$(od -An -tu4 -j8 -N4 new/*/*.part | tr -d ' ')" = 3 ]
	logq -d new '*' > v3.out
	[ "$(wc -l < v3.out)" -eq 294 ]
	grep -v '"event_id":"[^"]*[A-F]' v2.out | cmp - v3.out
	# version 2 and version 3 parts side by side, then merged into one
	cp -r old mix
	logindex -d mix < lower.jsonl
	[ "$(ls mix/*/*.part | wc -l)" -eq 2 ]
	sort v2.out v3.out > want
	logq -d mix '*' | sort | cmp - want
	logindex -d mix --merge
	[ "$(ls mix/*/*.part | wc -l)" -eq 1 ]
	[ "$(od -An -tu4 -j8 -N4 mix/*/*.part | tr -d ' ')" = 3 ]
	logq -d mix '*' | sort | cmp - want
	run -0 logindex -d mix --verify
	[ "$(jq -c . <<<"$output")" = '{"dir":"mix","records_ok":594,"bad_parts":0}' ]
	run -0 logq -d mix 'event_id:="a6a3a450-6513-470e-a69e-0d37f2a74de4" | stats count() as n'
	[ "$(jq -r .n <<<"$output")" = 2 ]
	run -0 logq -d mix 'event_id:a6a3a450* | fields event_id'
	[ "${#lines[@]}" -eq 2 ] && [ "${lines[0]}" = '{"event_id":"a6a3a450-6513-470e-a69e-0d37f2a74de4"}' ]
}

@test "logq -d: readers see consistent, growing snapshots while logindex writes and merges" {
	"$LG" app --count 12000 > app.jsonl
	# 24 commits of 500 records; automatic merges fold parts meanwhile
	( for i in $(seq 0 23); do sed -n "$((i * 500 + 1)),$((i * 500 + 500))p" app.jsonl; sleep 0.1; done ) |
		logindex -d idx --time-field time --msg-field msg --sync-every 500 & wpid=$!
	while [ ! -f idx/MANIFEST ]; do sleep 0.01; done
	last=0 reads=0
	while kill -0 $wpid 2>/dev/null; do
		run -0 --separate-stderr logq -d idx '* | stats count()'
		[ -z "$stderr" ]
		n=$(jq -r '."count(*)"' <<<"$output")
		[ $((n % 500)) -eq 0 ]
		[ "$n" -ge "$last" ]
		last=$n reads=$((reads + 1))
	done
	wait $wpid
	echo "# $reads reads while writing" >&3
	[ "$reads" -gt 5 ]
	run -0 logq -d idx '* | stats count()'
	[ "$output" = '{"count(*)":"12000"}' ]
	[ "$(logindex -d idx --stats | jq .parts)" -lt 8 ]
}

@test "logq -d: a slow reader keeps its snapshot while parts are merged away" {
	"$LG" app --count 3000 > app.jsonl
	for i in 0 1 2; do
		sed -n "$((i * 1000 + 1)),$((i * 1000 + 1000))p" app.jsonl | logindex -d idx --time-field time --msg-field msg
	done
	mkfifo out
	logq -d idx '*' > out & rpid=$!
	exec 5< out
	IFS= read -r first <&5
	[[ "$first" == '{"_time":'* ]]
	# the reader holds the three parts; merging replaces them
	logindex -d idx --merge
	[ "$(ls idx/*/*.part | wc -l)" -eq 1 ]
	cat <&5 > rest
	exec 5<&-
	wait $rpid
	[ "$(wc -l < rest)" -eq 2999 ]
}

@test "logq: 100+ malformed queries each name line and column, status 2" {
	logindex -d idx < "$FIX/logq/records.jsonl"
	n=0
	# plain redirections, not run: 400+ bats runs would take a minute
	while IFS= read -r q; do
		for d in "" idx; do
			rc=0
			logq ${d:+-d "$d"} "$q" < /dev/null > out 2> err || rc=$?
			[ "$rc" -eq 2 ] || { echo "query <$q> (-d '$d'): exit $rc"; return 1; }
			grep -Eq '^logq: query:[0-9]+:[0-9]+: .' err || { echo "query <$q>: $(cat err)"; return 1; }
			[ "$(wc -l < err)" -eq 1 ] || return 1
			[ ! -s out ] || return 1
		done
		n=$((n + 1))
	done < "$FIX/logq/malformed.txt"
	[ "$n" -ge 100 ]
}

@test "logq -d: 300 parts under a limit of 64 open files" {
	for d in $(seq 0 299); do
		echo "{\"_time\":$((1600000000 + d * 86400)),\"_msg\":\"day $d word$d\"}"
	done | logindex -d idx
	[ "$(logindex -d idx --stats | jq .parts)" = 300 ]
	run -0 --separate-stderr bash -c 'ulimit -n 64 && logq -d idx -o raw "word7 OR word299 OR _time:2020-09-13"'
	[ "$stderr" = "" ]
	[ "$output" = "day 0 word0
day 7 word7
day 299 word299" ]
}

@test "logq -d: huge and binary field values come back intact" {
	big=$(head -c 300000 /dev/zero | tr '\0' x)
	printf '{"_time":"2025-05-17T04:44:00Z","_msg":"huge %s end","bin":"\\u0000\\u0001\\u00ff\\ud83d\\ude00 ok"}\n' "$big" > in.jsonl
	printf '{"_time":"2025-05-17T04:44:01Z","_msg":"small"}\n' >> in.jsonl
	logindex -d idx < in.jsonl
	run -0 --separate-stderr logq -d idx 'end | fields bin'
	[ "$output" = "$(logq 'end | fields bin' < in.jsonl)" ]
	run -0 --separate-stderr logq -d idx -o raw 'huge'
	[ "${#output}" -eq $((300000 + 9)) ]
}

@test "logq -d: closed stdout, full disk, a reader that goes away" {
	build_index
	run -2 --separate-stderr bash -c 'logq -d idx "*" >&-'
	[[ "$stderr" == "logq: "* ]]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logq -d idx "*" > /dev/full'
	[[ "$stderr" == "logq: "*"No space left on device"* ]]
	run -0 --separate-stderr bash -c 'logq -d idx "*" | head -1'
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "logq -d: the row pre-filter: a word across two values, absent values, dictionary columns" {
	# _msg values lie back to back in a block ("zab" then "c abc": "abc"
	# across the two); a word after such a false start must still be found
	{
		echo '{"_time":"2025-05-17T04:00:00Z","_msg":"zab","host":"node-abc"}'
		echo '{"_time":"2025-05-17T04:00:01Z","_msg":"c abc","host":"node-x"}'
		echo '{"_time":"2025-05-17T04:00:02Z","host":"node-abc"}'
		echo '{"_time":"2025-05-17T04:00:03Z","_msg":"ab","host":"node-y"}'
		echo '{"_time":"2025-05-17T04:00:04Z","_msg":"c","host":"node-abc"}'
		echo '{"_time":"2025-05-17T04:00:05Z","_msg":"xabc abc","host":"node-y"}'
	} > in.jsonl
	logindex -d ix < in.jsonl
	# and the rows passed over for lacking the text a filter needs
	for q in abc 'host:abc' 'host:abc abc' 'c' 'ab OR c' '"c abc"' 'ab*' 'abc | stats count() as n' \
	    'host:="node-abc"' 'host:="node-abc" c' 'host:="node-ab"*' 'xab*' 'c -abc' 'i(ABC)' \
	    'abc -host:="node-y"' '_msg:="c abc"'; do
		case $q in *stats*) ;; *) q="$q | fields _msg, host" ;; esac
		logq -d ix "$q" > got || [ $? -eq 1 ]
		logq "$q" < in.jsonl > want || [ $? -eq 1 ]
		expect_same want got
	done
	run -0 logq -d ix 'abc | fields _msg'
	[ "$output" = '{"_msg":"c abc"}
{"_msg":"xabc abc"}' ]
}
