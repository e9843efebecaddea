#!/usr/bin/env bats
# logpush --to influxdb against a real InfluxDB 1.x (Debian influxd) on
# 127.0.0.1: throwaway config, free ports, data in the file's scratch dir.
bats_require_minimum_version 1.5.0
load helper

setup_file() {
	command -v influxd > /dev/null || skip "no influxd"
	I=$BATS_FILE_TMPDIR/influx
	mkdir -p "$I"
	IPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	RPORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	cat > "$I/influxdb.conf" <<-EOF
	reporting-disabled = true
	bind-address = "127.0.0.1:$RPORT"
	[meta]
	  dir = "$I/meta"
	[data]
	  dir = "$I/data"
	  wal-dir = "$I/wal"
	  query-log-enabled = false
	[http]
	  bind-address = "127.0.0.1:$IPORT"
	  log-enabled = false
	[monitor]
	  store-enabled = false
	[continuous_queries]
	  enabled = false
	[logging]
	  level = "error"
	EOF
	timeout 120 influxd -config "$I/influxdb.conf" > "$I/log" 2>&1 &
	echo $! > "$I/pid"
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$IPORT/ping" > /dev/null && break
		sleep 0.1
	done
	IURL=http://127.0.0.1:$IPORT
	export I IURL
}

teardown_file() {
	[ -s "$I/pid" ] && kill "$(cat "$I/pid")" 2>/dev/null || true
}

q() {	# q DB 'INFLUXQL': the answer as JSON
	curl -sf -G "$IURL/query" --data-urlencode "db=$1" --data-urlencode "q=$2"
}

# rows of a measurement as "time<TAB>col=value..." lines, nulls left out
rows() {
	q "$1" "SELECT * FROM \"$2\"" | jq -r '.results[0].series[0] as $s | $s.values[] |
		[., $s.columns] | transpose | map(select(.[0] != null)) |
		map("\(.[1])=\(.[0] | tojson)") | join(" ")'
}

@test "logpush influxdb: every field and tag reads back, escaping of spaces, commas, equals, quotes, backslashes, newlines" {
	curl -sf -XPOST "$IURL/query" --data-urlencode 'q=CREATE DATABASE esc' > /dev/null
	cat > in <<-'EOF'
	{"_time":"2025-05-17T04:44:04.000000001Z","_stream":"{host=\"web 1\",app=\"a,b=c\"}","_msg":"say \"hi\" \\ done\nsecond line","n":42,"f":1.5,"neg":-7,"ok":true,"obj":{"k":[1,2]},"key with space,comma=eq":"v"}
	{"_time":"2025-05-17T04:44:04.000000002Z","_stream":"{host=\"x\\\\y\"}","_msg":"tab\there","big":1e300,"empty":"","null":null}
	EOF
	run -0 --separate-stderr logpush --to influxdb --db esc --measurement 'm e,as=ure' --tags ok "$IURL" < in
	[ "$(jq -r .sent <<< "$output")" = 2 ]
	rows esc 'm e,as=ure' > got
	cat > expected <<-'EOF'
	time="2025-05-17T04:44:04.000000001Z" _msg="say \"hi\" \\ done\\nsecond line" app="a,b=c" f=1.5 host="web 1" key with space,comma=eq="v" n=42 neg=-7 obj="{\"k\":[1,2]}" ok="true"
	time="2025-05-17T04:44:04.000000002Z" _msg="tab\there" big=1e+300 empty="" host="x\\y"
	EOF
	expect_same expected got
	# numbers stay numbers: integer and float field types
	q esc 'SHOW FIELD KEYS' | jq -r '.results[0].series[0].values[] | @tsv' | sort > got
	printf '_msg\tstring\nbig\tfloat\nempty\tstring\nf\tfloat\nkey with space,comma=eq\tstring\nn\tinteger\nneg\tinteger\nobj\tstring\n' > expected
	expect_same expected got
}

@test "logpush influxdb: same series and nanosecond kept apart (not overwritten)" {
	curl -sf -XPOST "$IURL/query" --data-urlencode 'q=CREATE DATABASE same' > /dev/null
	for i in 1 2 3; do echo "{\"_time\":\"2025-05-17T04:44:04Z\",\"_msg\":\"m$i\"}"; done > in
	run -0 logpush --to influxdb --db same "$IURL" < in
	[ "$(q same 'SELECT count(_msg) FROM logs' | jq '.results[0].series[0].values[0][1]')" = 3 ]
}

@test "logpush influxdb: a partial write names the dropped records; the rest are stored" {
	curl -sf -XPOST "$IURL/query" --data-urlencode 'q=CREATE DATABASE part' > /dev/null
	printf '%s\n' '{"_time":"2025-05-17T04:44:01Z","v":1}' > first
	run -0 logpush --to influxdb --db part "$IURL" < first
	printf '%s\n' '{"_time":"2025-05-17T04:44:02Z","v":2}' '{"_time":"2025-05-17T04:44:03Z","v":"text"}' \
		'{"_time":"2025-05-17T04:44:04Z","v":3}' '{"_time":"2025-05-17T04:44:05Z","time":1}' > in
	run -1 --separate-stderr logpush --to influxdb --db part --dead-letter dl "$IURL" < in
	[ "$(jq -r '[.sent,.rejected] | @tsv' <<< "$output")" = "$(printf '3\t1')" ]
	[ "$(jq -c .record dl)" = '{"_time":"2025-05-17T04:44:03Z","v":"text"}' ]
	[[ "$(jq -r .reason dl)" == 'partial write: field type conflict: input field "v" on measurement "logs" is type string, already exists as type integer dropped=1' ]]
	# InfluxDB reserves the key "time": it is written as time_
	[ "$(q part 'SELECT time_ FROM logs' | jq -c '[.results[0].series[0].values[][1]]')" = '[1]' ]
	q part 'SELECT v FROM logs' | jq -c '[.results[0].series[0].values[][1]]' > got
	echo '[1,2,3]' > expected
	expect_same expected got
}

@test "logpush influxdb: a missing database is fatal and says how to create it" {
	echo '{"_msg":"x"}' > in
	run -2 --separate-stderr logpush --to influxdb --db nosuchdb "$IURL" < in
	[[ "$stderr" == *'database not found: "nosuchdb" (create it first: influx -execute '"'CREATE DATABASE nosuchdb')" ]]
}

@test "logpush influxdb: what the line protocol cannot carry is dead-lettered" {
	curl -sf -XPOST "$IURL/query" --data-urlencode 'q=CREATE DATABASE bad' > /dev/null
	printf '%s\n' '{"_stream":"{t=\"ends\\\\\"}","v":1}' '{"_stream":"{t=\"x\"}"}' '{"v":2}' > in
	run -1 --separate-stderr logpush --to influxdb --db bad --dead-letter dl "$IURL" < in
	jq -r .reason dl > got
	printf '<stdin>:1: tag t: a backslash the line protocol cannot carry\n<stdin>:2: no fields (the line protocol needs one)\n' > expected
	expect_same expected got
	[ "$(jq -r .sent <<< "$output")" = 1 ]
}

@test "logpush influxdb 2.x: /api/v2/write with org, bucket and a token from a file" {
	python3 "$TOP/tests/servers/victorialogs.py" --port-file port --store stored --requests requests --lifetime 30 &
	SPID=$!
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
	echo 'tok123' > token
	echo '{"_msg":"x"}' > in
	run -1 logpush --to influxdb --bucket b1 --org o1 --bearer-token-file token "http://127.0.0.1:$(cat port)" < in
	kill "$SPID"
	[ "$(jq -r '[.path,.query.bucket,.query.org,.query.precision,.authorization,.content_encoding] | @tsv' requests)" = "$(printf '/api/v2/write\tb1\to1\tns\tToken tok123\tgzip')" ]
	run -0 logpush --to influxdb --health "$IURL"
}
