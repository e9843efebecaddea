#!/usr/bin/env bats
# logindex: ingest, stats (JSON and Prometheus), verify, merge, retention, locking, crash safety, bad input.
bats_require_minimum_version 1.5.0
load helper

local_setup() {
	LG=$TOP/build/loggen
	[ -x "$LG" ] || skip "build/loggen not built"
	"$LG" app --count 3000 > app.jsonl
}

local_teardown() {
	if mountpoint -q "$T/fs" 2>/dev/null; then umount "$T/fs"; fi
}

# records in the index according to --verify
verified() { logindex -d "$1" --verify | jq -r .records_ok; }

@test "usage, help, version" {
	run -2 --separate-stderr logindex
	[[ "$stderr" == usage:* ]]
	run -0 logindex --help
	[[ "$output" == usage:* ]]
	run -0 logindex --version
	[[ "$output" == "logindex "* ]]
	run -2 --separate-stderr logindex -d x --sync-every 0
	[[ "$stderr" == *"bad --sync-every '0'"* ]]
	run -2 --separate-stderr logindex -d x --retention nonsense
	[[ "$stderr" == *"bad --retention"* ]]
}

@test "ingest, stats as JSON, verify" {
	run -0 --separate-stderr logindex -d idx --time-field time --msg-field msg --stream-fields source < app.jsonl
	[ -z "$stderr" ]
	[ -f idx/MANIFEST ]
	logindex -d idx --stats > stats.json
	[ "$(jq .records stats.json)" = 3000 ]
	[ "$(jq .streams stats.json)" = "$(jq -r .source app.jsonl | sort -u | wc -l)" ]
	[ "$(jq .fields.level.values stats.json)" = 3000 ]
	[ "$(jq -r .time_min stats.json)" = "$(jq -r .time app.jsonl | sort | head -1)" ]
	[ "$(jq '.bytes_compressed < .bytes_raw' stats.json)" = true ]
	run -0 verified idx
	[ "$output" = 3000 ]
}

@test "stats as Prometheus text that promtool accepts" {
	command -v promtool >/dev/null || skip "no promtool"
	logindex -d idx --time-field time < app.jsonl
	logindex -d idx --stats --format prometheus > m.prom
	run -0 promtool check metrics < m.prom
	grep -q '^logindex_records{dir="idx"} 3000$' m.prom
	grep -q '^logindex_field_values{dir="idx",field="customer"} 3000$' m.prom
}

@test "appending adds parts; --merge folds a day into one part" {
	head -1000 app.jsonl | logindex -d idx --time-field time
	sed -n 1001,2000p app.jsonl | logindex -d idx --time-field time
	tail -n +2001 app.jsonl | logindex -d idx --time-field time
	[ "$(logindex -d idx --stats | jq .parts)" = 3 ]
	run -0 logindex -d idx --merge
	[ "$(logindex -d idx --stats | jq .parts)" = 1 ]
	run -0 verified idx
	[ "$output" = 3000 ]
	[ "$(ls idx/*/*.part | wc -l)" = 1 ]
}

@test "--sync-every commits often and automatic merges keep parts few" {
	run -0 --separate-stderr logindex -d idx -v --time-field time --sync-every 100 < app.jsonl
	[[ "$stderr" == *"committed 3000 records"* ]]
	# small parts are merged as they come, and the run's parts into one at the end
	[[ "$stderr" == *"merged 8 parts of 20250517: "* ]]
	[ "$(logindex -d idx --stats | jq .parts)" = 1 ]
	run -0 verified idx
	[ "$output" = 3000 ]
}

# records of each stream in time order, streams in order: what logq -d prints of one part
in_order() { logq -d "$1" '*' | jq -r '[._stream, ._time] | @tsv' | sort -c -s -t "$(printf '\t')" -k1,1 -k2,2; }

@test "--merge copies the blocks of parts cut one after another; the index answers the same" {
	"$LG" app --count 30000 > big.jsonl
	li() { logindex --time-field time --msg-field msg --stream-fields source -d idx; }
	sed -n 1,10000p big.jsonl | li
	# another field order, and a field the first part lacks: fields are renumbered
	sed -n 10001,20000p big.jsonl | jq -c '{aaa: .customer, time, latency, msg, source, level}' | li
	sed -n 20001,30000p big.jsonl | li
	[ "$(logindex -d idx --stats | jq .parts)" = 3 ]
	# (the order of a record's fields follows its part's, which a merge may change)
	logq -d idx '*' | jq -cS . | sort > before
	logindex -d idx --stats | jq -c '.records, .streams, .fields' > stats.before
	run -0 --separate-stderr logindex -v -d idx --merge
	[[ "$stderr" =~ "merged 3 parts of 20250517: "([0-9]+)" blocks copied" ]]
	[ "${BASH_REMATCH[1]}" -gt 10 ]
	[ "$(logindex -d idx --stats | jq .parts)" = 1 ]
	logq -d idx '*' | jq -cS . | sort | cmp before -
	logindex -d idx --stats | jq -c '.records, .streams, .fields' | cmp stats.before -
	run -0 verified idx
	[ "$output" = 30000 ]
	in_order idx
	run -0 logq -d idx 'aaa:cust_7 | stats count()'
	[ "$output" = "{\"count(*)\":\"$(sed -n 10001,20000p big.jsonl | grep -c '"customer":"cust_7"')\"}" ]
}

@test "--merge interleaves the rows of parts that overlap in time" {
	"$LG" app --count 20000 > big.jsonl
	li() { logindex --time-field time --msg-field msg --stream-fields source -d idx; }
	awk 'NR % 2' big.jsonl | li
	awk 'NR % 2 == 0' big.jsonl | li
	logq -d idx '*' | sort > before
	run -0 --separate-stderr logindex -v -d idx --merge
	[[ "$stderr" =~ "merged 2 parts of 20250517: "[0-9]+" blocks copied, "([0-9]+)" rows encoded again" ]]
	[ "${BASH_REMATCH[1]}" -gt 10000 ]
	logq -d idx '*' | sort | cmp before -
	in_order idx
	run -0 verified idx
	[ "$output" = 20000 ]
}

@test "--merge refuses a damaged part and leaves the index as it was" {
	head -1500 app.jsonl | logindex -d idx --time-field time
	tail -n +1501 app.jsonl | logindex -d idx --time-field time
	part=$(ls idx/*/*.part | head -1)
	cp idx/MANIFEST manifest.before
	printf '\xff\xff\xff\xff' | dd of="$part" bs=1 seek=100 conv=notrunc status=none
	run -2 --separate-stderr logindex -d idx --merge
	[[ "$stderr" == *"$part: bad column checksum (offset "* ]]
	cmp manifest.before idx/MANIFEST
	[ "$(ls idx/*/*.part | wc -l)" = 2 ]
	# a query skips the damaged part, saying so
	logq -d idx '*' > out 2> err
	[ "$(wc -l < out)" = 1500 ]
	grep -q "$part: bad column checksum" err
}

@test "--retention drops whole old days and keeps recent ones" {
	now=$(date -u +%s)
	{
		echo "{\"_time\":\"2020-01-01T00:00:00Z\",\"_msg\":\"old\"}"
		echo "{\"_time\":$now,\"_msg\":\"new\"}"
	} | logindex -d idx
	[ "$(logindex -d idx --stats | jq .days)" = 2 ]
	run -0 --separate-stderr logindex -d idx -v --retention 30d
	[[ "$stderr" == *"dropped 1 days"* ]]
	[ "$(logindex -d idx --stats | jq .records)" = 1 ]
	[ ! -d idx/20200101 ]
}

@test "one writer at a time: the lock names the holder" {
	mkfifo in
	logindex -d idx < in & pid=$!
	exec 5> in
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -s idx/LOCK ] && break; sleep 0.1; done
	run -2 --separate-stderr logindex -d idx < app.jsonl
	exec 5>&-
	wait $pid
	[[ "$stderr" == *"idx/LOCK: locked by another logindex (pid $pid)"* ]]
}

@test "bad lines are skipped with a message naming the line; status 1" {
	{ head -2 app.jsonl; echo 'not json'; printf '\x00\x01\xff\n'; echo '{"time":"yesterday"}'; echo '[1,2]'; echo '{"a":'; tail -1 app.jsonl; } > bad.jsonl
	run -1 --separate-stderr logindex -d idx --time-field time < bad.jsonl
	[[ "$stderr" == *"<stdin>:3: not a JSON object"* ]]
	[[ "$stderr" == *"<stdin>:5: bad time in field 'time': 'yesterday'"* ]]
	[ "$(verified idx)" = 3 ]
}

@test "nested objects are flattened; escapes decoded; huge values kept" {
	big=$(head -c 300000 /dev/zero | tr '\0' x)
	printf '{"_time":"2025-05-17T04:44:00Z","a":{"b":1,"c":[1,2]},"m":"tab\\there \\u00e9 \\ud83d\\ude00","big":"%s"}\n' "$big" |
		logindex -d idx
	s=$(logindex -d idx --stats)
	[ "$(jq '.fields["a.b"].values' <<<"$s")" = 1 ]
	[ "$(jq '.fields["a.c"].values' <<<"$s")" = 1 ]
	[ "$(jq '.fields.big.values' <<<"$s")" = 1 ]
	[ "$(verified idx)" = 1 ]
}

@test "empty input makes an empty, valid index" {
	run -0 logindex -d idx < /dev/null
	[ "$(logindex -d idx --stats | jq .records)" = 0 ]
	[ "$(verified idx)" = 0 ]
}

@test "--max-streams warns once about cardinality" {
	run -0 --separate-stderr logindex -d idx --time-field time --stream-fields customer --max-streams 10 < app.jsonl
	[[ "$stderr" == *"more than --max-streams 10"* ]]
	[ "$(grep -c max-streams <<<"$stderr")" = 1 ]
}

@test "--verify names the damaged part and offset; status 1" {
	logindex -d idx --time-field time < app.jsonl
	part=$(ls idx/*/*.part)
	printf '\xff\xff\xff\xff' | dd of="$part" bs=1 seek=100 conv=notrunc status=none
	run -1 --separate-stderr logindex -d idx --verify
	[[ "$stderr" == *"$part: bad column checksum (offset "* ]]
	[ "$(jq .bad_parts <<<"$output")" = 1 ]
}

@test "--verify checks the bloom filters; queries still answer" {
	logindex -d idx --time-field time < app.jsonl
	part=$(ls idx/*/*.part)
	size=$(stat -c %s "$part")
	# the footer's first u64 is the index offset; the last bloom run ends there
	ioff=$(od -An -t u8 -j $((size - 64)) -N 8 "$part" | tr -d ' ')
	printf '\x5a' | dd of="$part" bs=1 seek=$((ioff - 1)) conv=notrunc status=none
	run -1 --separate-stderr logindex -d idx --verify
	[[ "$stderr" == "logindex: $part: bad bloom filter checksum (offset "*")" ]]
	[ "$(jq .bad_parts <<<"$output")" = 1 ]
	run -0 logq -d idx '* | stats count()'
	[ "$output" = '{"count(*)":"3000"}' ]
}

@test "a truncated part, a newer version, a missing or bad manifest" {
	logindex -d idx --time-field time < app.jsonl
	part=$(ls idx/*/*.part)
	cp "$part" saved
	truncate -s 2000 "$part"
	run -1 --separate-stderr logindex -d idx --verify
	[[ "$stderr" == *"$part: bad footer magic (truncated part?)"* ]]
	cp saved "$part"
	printf '\x09' | dd of="$part" bs=1 seek=8 conv=notrunc status=none
	run -1 --separate-stderr logindex -d idx --verify
	[[ "$stderr" == *"format version 9 is not supported (this build reads versions 2 to 3)"* ]]
	printf '\x09' | dd of=idx/MANIFEST bs=1 seek=8 conv=notrunc status=none
	run -2 --separate-stderr logindex -d idx --stats
	[[ "$stderr" == *"idx/MANIFEST: format version 9 is not supported"* ]]
	rm idx/MANIFEST
	run -2 --separate-stderr logindex -d idx --verify
	[[ "$stderr" == *"idx: no MANIFEST (not a logindex directory)"* ]]
}

@test "closed stdout and full disk for --stats" {
	logindex -d idx --time-field time < app.jsonl
	run -2 --separate-stderr bash -c 'logindex -d idx --stats >&-'
	[ -n "$stderr" ]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logindex -d idx --stats > /dev/full'
	[[ "$stderr" == *"No space left on device"* ]]
}

@test "a full disk while ingesting: status 2 naming the file, committed records kept" {
	mkdir fs
	mount -t tmpfs -o size=1m tmpfs fs 2>/dev/null || skip "cannot mount a small tmpfs (needs root)"
	logindex -d fs/idx --time-field time < app.jsonl
	"$LG" events --count 100000 > big.jsonl
	run -2 --separate-stderr logindex -d fs/idx --time-field event_timestamp < big.jsonl
	[[ "$stderr" == "logindex: fs/idx/"*": No space left on device" ]]
	run -0 verified fs/idx
	[ "$output" = 3000 ]
	[ -z "$(find fs/idx -name '.tmp-*')" ]
	run -0 logq -d fs/idx '* | stats count()'
	[ "$output" = '{"count(*)":"3000"}' ]
}

@test "a full disk at the closing merge: reported, status 0, every record kept" {
	mkdir fs
	mount -t tmpfs -o size=18m tmpfs fs 2>/dev/null || skip "cannot mount a small tmpfs (needs root)"
	# two 32 MiB buffers' worth of records: two parts, and no room for the merged one
	"$LG" events --size $((70 << 20)) > big.jsonl
	n=$(wc -l < big.jsonl)
	run -0 --separate-stderr logindex -d fs/idx --time-field event_timestamp --msg-field line < big.jsonl
	[[ "$stderr" == "logindex: fs/idx/"*"No space left on device (the records are in the index; logindex --merge can try again)" ]]
	[ "$(logindex -d fs/idx --stats | jq .parts)" = 2 ]
	[ -z "$(find fs/idx -name '.tmp-*')" ]
	run -0 verified fs/idx
	[ "$output" = "$n" ]
}

@test "SIGKILL at random moments never loses an acknowledged record" {
	"$LG" app --count 20000 > many.jsonl
	for round in 1 2 3 4 5 6; do
		rm -rf idx err
		# -v acknowledges each commit on stderr; a slow reader makes kills land mid-write
		( while IFS= read -r l; do printf '%s\n' "$l"; done < many.jsonl ) |
			logindex -d idx -v --time-field time --sync-every 500 2> err & pid=$!
		sleep 0.$((RANDOM % 9 + 1))
		kill -KILL $pid 2>/dev/null || true
		wait $pid || true
		acked=$(grep -o 'committed [0-9]*' err | tail -1 | cut -d' ' -f2)
		acked=${acked:-0}
		[ -f idx/MANIFEST ] || { [ "$acked" = 0 ]; continue; }
		got=$(logindex -d idx --verify | jq .records_ok)
		echo "# round $round: acked $acked, found $got" >&3
		[ "$got" -ge "$acked" ]
		run -0 logindex -d idx --verify
		# the writer that comes next cleans up and appends
		head -10 app.jsonl | logindex -d idx --time-field time
		[ "$(verified idx)" = $((got + 10)) ]
		[ -z "$(find idx -name '.tmp-*')" ]
	done
}
