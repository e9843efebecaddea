#!/usr/bin/env bats
# logpush against a real InfluxDB 1.x (Debian influxd) and the strict test
# servers in tests/servers/ (VictoriaLogs, Loki, Elasticsearch).
bats_require_minimum_version 1.5.0
load helper

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start NAME [ARGS]: a test server on a free port; sets URL and SPID.
start() {
	local name=$1; shift
	python3 "$TOP/tests/servers/$name.py" --port-file "$T/port" --store "$T/stored" \
		--requests "$T/requests" --lifetime 90 "$@" &
	SPID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	URL=http://127.0.0.1:$(cat "$T/port")
}

local_teardown() {
	[ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null || true
	[ -n "${IPID:-}" ] && kill "$IPID" 2>/dev/null || true
}

now() { date -u +%Y-%m-%dT%H:%M:%S; }

# N records of three streams with recent times
records() {
	local t; t=$(now)
	for i in $(seq 1 "$1"); do
		printf '{"_time":"%s.%09dZ","_stream":"{host=\\"h%d\\"}","_msg":"line %d","n":%d}\n' "$t" "$i" $((i % 3)) "$i" "$i"
	done
}

@test "logpush: usage, --help, --version, bad options" {
	run -2 --separate-stderr logpush
	[[ "$stderr" == usage:* ]]
	run -0 logpush --help
	[[ "$output" == usage:* ]]
	run -0 logpush --version
	[[ "$output" == "logpush "* ]]
	run -2 --separate-stderr logpush --to nosuch http://127.0.0.1:1
	[[ "$stderr" == *"unknown target 'nosuch'"* ]]
	run -2 --separate-stderr logpush --to loki --flush-interval xyz http://127.0.0.1:1
	[[ "$stderr" == *"bad duration 'xyz'"* ]]
	run -2 --separate-stderr logpush --to influxdb http://127.0.0.1:1
	[[ "$stderr" == *"needs --db"* ]]
	run -2 --separate-stderr logpush --to loki --bearer-token-file nofile http://127.0.0.1:1
	[[ "$stderr" == "logpush: nofile: No such file or directory" ]]
}

@test "logpush victorialogs: stores every record, stream fields, gzip, content type" {
	start victorialogs
	records 250 > in
	run -0 --separate-stderr logpush --to victorialogs --batch-size 100 "$URL" < in
	[ "$(jq -r '[.sent,.rejected,.batches] | @tsv' <<< "$output")" = "$(printf '250\t0\t3')" ]
	jq -r '[._msg, ._stream, .n] | @tsv' stored | sort > got
	jq -r '[._msg, ._stream, (.n|tostring)] | @tsv' in | sort > expected
	expect_same expected got
	jq -r '[.path, .query._stream_fields, .query._time_field, .query._msg_field, .content_type, .content_encoding] | @tsv' requests | sort -u > got
	printf '/insert/jsonline\thost\t_time\t_msg\tapplication/stream+json\tgzip\n' > expected
	expect_same expected got
	[ "$(jq -r ._time stored | head -1)" = "$(jq -r ._time in | head -1)" ]
}

@test "logpush: --batch-bytes cuts batches by size, --batch-size by count, whichever first" {
	start victorialogs
	# 40 records of about 100 bytes: a batch goes once it holds 1000 bytes
	for i in $(seq 1 40); do printf '{"_msg":"%s","n":%d}\n' "$(printf 'x%.0s' $(seq 80))" "$i"; done > in
	run -0 --separate-stderr logpush --to victorialogs --no-gzip --batch-bytes 1000 "$URL" < in
	[ "$(jq -r '[.sent,.batches] | @tsv' <<< "$output")" = "$(printf '40\t4')" ]
	[ "$(jq -s '.[:-1] | map(select(.bytes < 1000 or .bytes > 1100)) | length' requests)" = 0 ]
	: > requests
	run -0 --separate-stderr logpush --to victorialogs --no-gzip --batch-bytes 1000 --batch-size 4 "$URL" < in
	[ "$(jq -r .batches <<< "$output")" = 10 ]
	[ "$(wc -l < stored)" -eq 80 ]
}

@test "logpush: --stream-fields name the stream when records have no _stream" {
	start victorialogs
	printf '{"_msg":"a","app":"web","host":"h1"}\n{"_msg":"b","app":"db","host":"h2"}\n' > in
	run -0 --separate-stderr logpush --to victorialogs --stream-fields app,host "$URL" < in
	[ "$(jq -r .query._stream_fields requests)" = "app,host" ]
	jq -r ._stream stored > got
	printf '{app="web",host="h1"}\n{app="db",host="h2"}\n' > expected
	expect_same expected got
}

@test "logpush: truncated input: a last line without newline is a record, a cut object is rejected" {
	start victorialogs
	printf '{"_msg":"one"}\n{"_msg":"two"}' > in
	run -0 --separate-stderr logpush --to victorialogs "$URL" < in
	[ "$(jq -r ._msg stored | paste -sd,)" = "one,two" ]
	printf '{"_msg":"three"}\n{"_msg":"fo' > in
	run -1 --separate-stderr logpush --to victorialogs --dead-letter dl "$URL" < in
	[ "$(jq -r '[.sent,.rejected] | @tsv' <<< "$output")" = "$(printf '1\t1')" ]
	[ "$(jq -r '[.reason,.line] | @tsv' dl)" = "$(printf '<stdin>:2: not a JSON object\t{"_msg":"fo')" ]
}

@test "logpush: secrets come from files: bearer and basic" {
	start victorialogs
	printf 's3cret\n' > tok
	printf 'user:pa ss\n' > basic
	records 1 > in
	run -0 logpush --to victorialogs --bearer-token-file tok "$URL" < in
	run -0 logpush --to victorialogs --basic-auth-file basic "$URL" < in
	jq -r .authorization requests > got
	printf 'Bearer s3cret\nBasic %s\n' "$(printf 'user:pa ss' | base64)" > expected
	expect_same expected got
}

@test "logpush: retries 429 with Retry-After, 5xx and dropped connections; --outcomes" {
	start victorialogs
	curl -s -XPOST "$URL/_test/fail?status=429&retry_after=1&count=1" > /dev/null
	curl -s -XPOST "$URL/_test/fail?status=503&count=2" > /dev/null
	curl -s -XPOST "$URL/_test/drop?count=1" > /dev/null
	records 10 > in
	s=$(date +%s%N)
	run -0 --separate-stderr logpush --to victorialogs --backoff 10ms --outcomes "$URL" < in
	e=$(date +%s%N)
	[ $(( (e - s) / 1000000 )) -ge 1000 ]	# Retry-After: 1 honoured
	[ "$(sed -n 1p <<< "$output" | jq -r '[.status,.attempts,.sent] | @tsv')" = "$(printf 'delivered\t5\t10')" ]
	[ "$(sed -n 2p <<< "$output" | jq -r '[.sent,.retries] | @tsv')" = "$(printf '10\t4')" ]
	[ "$(wc -l < stored)" -eq 10 ]
}

@test "logpush: permanent rejects go to the dead-letter file and do not block the stream" {
	start victorialogs
	{ records 2; echo 'not json'; echo '[1,2]'; records 2; } > in
	run -1 --separate-stderr logpush --to victorialogs --dead-letter dl "$URL" < in
	[ "$(jq -r '[.sent,.rejected] | @tsv' <<< "$output")" = "$(printf '4\t2')" ]
	jq -r '[.reason, .line] | @tsv' dl > got
	printf '<stdin>:3: not a JSON object\tnot json\n<stdin>:4: not a JSON object\t[1,2]\n' > expected
	expect_same expected got
	# a 400 from the server: the whole batch is dead-lettered, no retry
	curl -s -XPOST "$URL/_test/fail?status=400&count=1" > /dev/null
	records 3 > in2
	run -1 --separate-stderr logpush --to victorialogs --dead-letter dl2 --outcomes "$URL" < in2
	[ "$(head -1 <<< "$output" | jq -r '[.attempts,.rejected] | @tsv')" = "$(printf '1\t3')" ]
	[ "$(jq -r .reason dl2 | sort -u)" = "HTTP 400: injected failure 400" ]
	[ "$(jq -c .record dl2)" = "$(jq -c . in2)" ]
}

@test "logpush: wrong server answers: no server, transient failures outlast --retries" {
	records 3 > in
	run -1 --separate-stderr logpush --to victorialogs --retries 1 --backoff 1ms --dead-letter dl http://127.0.0.1:1 < in
	[ "$(jq -r '[.sent,.failed] | @tsv' <<< "$output")" = "$(printf '0\t3')" ]
	[[ "$stderr" == *"giving up after 2 attempts"* ]]
	[ "$(jq -r .reason dl | sort -u | cut -c1-28)" = "undeliverable after 2 attemp" ]
}

@test "logpush: --flush-interval ships a slow stream within a second" {
	start victorialogs
	mkfifo fifo
	( records 1; sleep 3; records 1 ) > fifo &
	W=$!
	logpush --to victorialogs --flush-interval 300ms "$URL" < fifo > summary &
	P=$!
	sleep 1.2
	[ "$(wc -l < stored)" -eq 1 ]
	wait "$W"; wait "$P"
	[ "$(wc -l < stored)" -eq 2 ]
}

@test "logpush loki: entries sorted per stream, labels, line msg|json, too old rejected" {
	start loki
	t=$(now)
	printf '{"_time":"%s.3Z","_stream":"{app=\\"a\\"}","_msg":"third"}\n' "$t" > in
	printf '{"_time":"%s.1Z","_stream":"{app=\\"a\\"}","_msg":"first"}\n' "$t" >> in
	printf '{"_time":"%s.2Z","_stream":"{app=\\"b\\"}","_msg":"other"}\n' "$t" >> in
	printf '{"_time":"2001-01-01T00:00:00Z","_stream":"{app=\\"a\\"}","_msg":"ancient"}\n' >> in
	printf '{"_time":"%s.2Z","_msg":"no labels"}\n' "$t" >> in
	run -1 --separate-stderr logpush --to loki --dead-letter dl "$URL" < in
	[ "$(jq -r '[.sent,.rejected] | @tsv' <<< "$output")" = "$(printf '3\t2')" ]
	jq -r '[._stream, ._msg] | @tsv' stored > got
	printf '{app="a"}\tfirst\n{app="a"}\tthird\n{app="b"}\tother\n' > expected
	expect_same expected got
	jq -r '.reason' dl | cut -d, -f1 | sort > got
	printf '<stdin>:5: no stream labels (Loki needs one; see --stream-fields)\nentry for stream '"'"'{app="a"}'"'"' has timestamp too old: 2001-01-01T00:00:00Z\n' > expected
	expect_same expected got
	# JSON bodies, gzip
	[ "$(jq -r '[.path,.content_type,.content_encoding] | @tsv' requests | sort -u)" = "$(printf '/loki/api/v1/push\tapplication/json\tgzip')" ]
	# --loki-line json: the whole record is the line
	head -1 in > one
	run -0 logpush --to loki --loki-line json "$URL" < one
	[ "$(tail -1 stored | jq -r ._msg | jq -r ._msg)" = "third" ]
	# a later push older than the stream's last entry: out of order, dead-lettered
	sed -n 2p in > older
	run -1 logpush --to loki --dead-letter dl3 "$URL" < older
	[[ "$(jq -r .reason dl3)" == *"entry out of order"* ]]
}

@test "logpush loki: 429 and 5xx are retried with backoff, Retry-After honoured" {
	start loki
	curl -s -XPOST "$URL/_test/fail?status=429&retry_after=1&count=1" > /dev/null
	curl -s -XPOST "$URL/_test/fail?status=500&count=1" > /dev/null
	curl -s -XPOST "$URL/_test/fail?status=502&count=1" > /dev/null
	records 6 > in
	s=$(date +%s%N)
	run -0 --separate-stderr logpush --to loki --backoff 5ms --outcomes "$URL" < in
	e=$(date +%s%N)
	[ $(( (e - s) / 1000000 )) -ge 1000 ]
	[ "$(head -1 <<< "$output" | jq -r '[.status,.http,.attempts,.sent] | @tsv')" = "$(printf 'delivered\t204\t4\t6')" ]
	[ "$(wc -l < stored)" -eq 6 ]
	# 400 is permanent: one attempt, the batch dead-lettered
	curl -s -XPOST "$URL/_test/fail?status=400&count=1" > /dev/null
	records 2 > in2
	run -1 --separate-stderr logpush --to loki --dead-letter dl --outcomes "$URL" < in2
	[ "$(head -1 <<< "$output" | jq -r '[.status,.attempts,.rejected] | @tsv')" = "$(printf 'rejected\t1\t2')" ]
	[ "$(wc -l < dl)" -eq 2 ]
}

@test "logpush elasticsearch: _bulk per-item errors dead-lettered, 429 items retried alone" {
	start elasticsearch
	echo '{"_msg":"first","n":0}' > first
	run -0 logpush --to elasticsearch --index logs "$URL" < first
	printf '%s\n' '{"_msg":"a","n":1}' '{"_msg":"b","n":"abc"}' '{"_msg":"c","n":2}' > in
	curl -s -XPOST "$URL/_test/item_fail?status=429&count=1" > /dev/null
	run -1 --separate-stderr logpush --to elasticsearch --index logs --backoff 1ms --dead-letter dl "$URL" < in
	[ "$(jq -r '[.sent,.rejected,.retries] | @tsv' <<< "$output")" = "$(printf '2\t1\t1')" ]
	jq -r '[._msg, .n, ._index] | @tsv' stored > got
	printf 'first\t0\tlogs\nc\t2\tlogs\na\t1\tlogs\n' > expected
	expect_same expected got
	[ "$(jq -r .record._msg dl)" = b ]
	[[ "$(jq -r .reason dl)" == *document_parsing_exception* ]]
}

@test "logpush --spool: undeliverable batches wait in the spool, go first next run, in order" {
	start victorialogs
	records 5 > in1
	run -1 --separate-stderr logpush --to victorialogs --spool sp --retries 0 http://127.0.0.1:1 < in1
	[ "$(jq -r '[.sent,.spooled] | @tsv' <<< "$output")" = "$(printf '0\t5')" ]
	records 3 | sed 's/line/later/' > in2
	run -0 --separate-stderr logpush --to victorialogs --spool sp "$URL" < in2
	[ "$(jq -r '[.sent,.spooled] | @tsv' <<< "$output")" = "$(printf '8\t0')" ]
	jq -r ._msg stored > got
	jq -r ._msg in1 in2 > expected
	expect_same expected got
	# the spool is in use: a second logpush refuses it
	exec 9> lockhold
	flock -x sp/lock sleep 3 &
	sleep 0.3
	run -2 --separate-stderr logpush --to victorialogs --spool sp "$URL" < /dev/null
	[[ "$stderr" == *"sp: in use by another logpush"* ]]
}

@test "logpush --spool: a torn journal tail is cut, a corrupt record set aside, a foreign file refused" {
	start victorialogs
	records 4 > in
	run -1 logpush --to victorialogs --spool sp --retries 0 http://127.0.0.1:1 < in
	size=$(stat -c %s sp/journal)
	head -c $((size - 3)) sp/journal > j && cat j > sp/journal	# torn: record cut short
	run -0 --separate-stderr logpush --to victorialogs --spool sp "$URL" < /dev/null
	[ "$(jq -r .sent <<< "$output")" = 0 ]
	echo 'hello, this is no spool' > sp/journal
	run -2 --separate-stderr logpush --to victorialogs --spool sp "$URL" < /dev/null
	[[ "$stderr" == *"sp/journal: not a logpush spool"* ]]
}

@test "logpush fault test: 30% failures, 20 SIGKILLs, same spool: nothing lost, few duplicates" {
	start victorialogs --fail-rate 0.3 --seed 5
	run -0 --separate-stderr python3 "$FIX/logpush/fault.py" "$(command -v logpush)" "$URL" "$T/sp" 2000 20 11
	jq -r .id stored | sort -n | uniq > got
	seq 0 1999 > expected
	expect_same expected got
	# compare content too, not only ids
	jq -r '[.id, ._msg, ._stream] | @tsv' stored | sort -u | sort -n > got
	for i in $(seq 0 1999); do printf '%d\trecord %d\t{host="h%d"}\n' "$i" "$i" $((i % 3)); done > expected
	expect_same expected got
	dups=$(( $(wc -l < stored) - 2000 ))
	[ "$dups" -le $((20 * 50)) ]
	echo "# duplicates: $dups" >&3
}

@test "logpush --dry-run: per-stream counts, top label values, --max-streams warning" {
	records 9 > in
	run -0 --separate-stderr logpush --to loki --dry-run --max-streams 2 http://127.0.0.1:1 < in
	sed -n 1,3p <<< "$output" | jq -r '[.stream,.records] | @tsv' > got
	printf '{host="h0"}\t3\n{host="h1"}\t3\n{host="h2"}\t3\n' > expected
	expect_same expected got
	[ "$(sed -n 4p <<< "$output" | jq -c '[.label,.distinct,(.top|length)]')" = '["host",3,3]' ]
	[ "$(sed -n 5p <<< "$output" | jq -c .)" = '{"records":9,"streams":3,"rejected":0,"sent":false}' ]
	[[ "$stderr" == *"3 streams exceed --max-streams 2"* ]]
}

@test "logpush --health: up answers, down says how to start one" {
	start victorialogs
	run -0 --separate-stderr logpush --to victorialogs --health "$URL"
	[ "$(jq -r .up <<< "$output")" = true ]
	run -1 --separate-stderr logpush --to victorialogs --health http://127.0.0.1:1
	[[ "$stderr" == *"down ("*"start one with: docker run --rm -p 9428:9428 victoriametrics/victoria-logs" ]]
	[ "$(wc -l <<< "$stderr")" -eq 1 ]
}

@test "logpush: a progress line on a terminal's stderr only, cleared at the end" {
	command -v script > /dev/null || skip "no script(1)"
	start victorialogs
	records 3000 > in
	script -qefc "logpush --to victorialogs '$URL' < in > summary" /dev/null > tty
	grep -q $'\rread [0-9.]* [KM]iB' tty
	[[ "$(tail -c 4 tty)" == $'\r\033[K' ]]
	[ "$(jq -r .sent summary)" = 3000 ]
	run -0 --separate-stderr logpush --to victorialogs "$URL" < in
	[ "$stderr" = "" ]
}

@test "logpush: closed stdout, full disk, a reader that goes away, binary and huge input" {
	start victorialogs
	records 3 > in
	run -2 --separate-stderr bash -c 'logpush --to victorialogs "$1" < in >&-' _ "$URL"
	[ "$stderr" = "logpush: stdout: Bad file descriptor" ]
	if has_dev_full; then
		run -2 --separate-stderr bash -c 'logpush --to victorialogs "$1" < in > /dev/full' _ "$URL"
		[[ "$stderr" == *"No space left on device"* ]]
	fi
	run -0 bash -c "logpush --to victorialogs --outcomes --batch-size 1 '$URL' < in | head -1 > first"
	[ "$(jq -r .batch first)" = 1 ]
	head -c 3000 /dev/urandom > bin
	run -1 --separate-stderr logpush --to victorialogs --dead-letter dl "$URL" < bin
	[ "$(jq -r .sent <<< "$output")" = 0 ]
	python3 -c 'import json;print(json.dumps({"_msg":"x"*3000000}))' > huge
	run -0 --separate-stderr logpush --to victorialogs "$URL" < huge
	[ "$(tail -1 stored | jq -r '._msg|length')" = 3000000 ]
}
