#!/usr/bin/env bats
# logcategorize: built-in rules, rules files, records, --into, --stats, --list.
bats_require_minimum_version 1.5.0
load helper

local_setup() {
	F=$FIX/logcategorize
}

# mktree: the names of names.expected as real files (content: their name).
mktree() {
	awk -F'\t' '{print $1}' "$F/names.expected" | while IFS= read -r p; do
		mkdir -p "$(dirname "$p")" && echo "$p" > "$p"
	done
}

@test "logcategorize: built-in rules on bare paths, in the documented order" {
	awk -F'\t' '{print $1}' "$F/names.expected" > paths
	run -0 --separate-stderr logcategorize < paths
	echo "$output" | jq -r '[.path, .category] | @tsv' > actual
	expect_same "$F/names.expected" actual
}

@test "logcategorize: a directory operand is walked in name order, hidden names skipped" {
	mktree
	mkdir -p cluster/.logsync && echo x > cluster/.logsync/server-9.log
	run -0 --separate-stderr logcategorize cluster
	echo "$output" | jq -r '[.path, .category] | @tsv' > actual
	sort "$F/names.expected" > expected
	expect_same expected actual
}

@test "logcategorize: records get a category from path or _file; others uncategorized" {
	run -0 --separate-stderr logcategorize < "$F/records.jsonl"
	echo "$output" | jq -c '[.category, .host, ._msg]' > actual
	printf '%s\n' '["server","login1",null]' '["monitoring",null,"started"]' \
		'["uncategorized",null,"a record with no file"]' '["server",null,null]' > expected
	expect_same expected actual
}

@test "logcategorize: rules file: globs, regex, content sniffing before the built-ins" {
	mkdir -p h/archive
	echo "INFO 05-17 vLLM API server version 0.6.3" > h/api.log
	echo "2025-05-17 postgres up" > h/postgres-main.log
	echo x > h/mysql-slow.log
	echo x > h/archive/server-1.log
	echo x > h/server-2.log
	run -0 --separate-stderr logcategorize --rules "$F/rules.conf" h
	echo "$output" | jq -r '[.path, .category] | @tsv' > actual
	printf 'h/api.log\tvllm\nh/archive/server-1.log\tarchive\nh/mysql-slow.log\tdb\nh/postgres-main.log\tdb\nh/server-2.log\tserver\n' > expected
	expect_same expected actual
	run -0 --separate-stderr logcategorize --rules "$F/rules-off.conf" h
	echo "$output" | jq -r .category | sort | uniq -c | awk '{print $2, $1}' > actual
	printf 'uncategorized 4\nvllm 1\n' > expected
	expect_same expected actual
}

@test "logcategorize: content rules only read the first sniff-lines lines" {
	mkdir h && { seq 30; echo "INFO vLLM API server version 1"; } > h/late.log
	printf 'vllm content ^INFO .*vLLM API server version\nsniff-lines 40\n' > r40
	run -0 logcategorize --rules "$F/rules-off.conf" h/late.log
	[ "$(echo "$output" | jq -r .category)" = uncategorized ]
	run -0 logcategorize --rules r40 h/late.log
	[ "$(echo "$output" | jq -r .category)" = vllm ]
}

@test "logcategorize: an unreadable file for a content rule is reported (exit 1)" {
	echo "/nonexistent/api.log" > paths
	run -1 --separate-stderr logcategorize --rules "$F/rules.conf" < paths
	[ "$stderr" = "logcategorize: /nonexistent/api.log: No such file or directory" ]
	[ "$(echo "$output" | jq -r .category)" = uncategorized ]
}

@test "logcategorize: bad rules files name the line and column" {
	run -2 --separate-stderr logcategorize --rules "$F/bad-kind.conf" /dev/null
	[ "$stderr" = "logcategorize: $F/bad-kind.conf:4: unknown rule kind 'bogus' (name, path, regex, content, record)" ]
	run -2 --separate-stderr logcategorize --rules "$F/bad-regex.conf" /dev/null
	[[ $stderr == "logcategorize: $F/bad-regex.conf:1: regex at column 19: missing closing parenthesis" ]]
	run -2 --separate-stderr logcategorize --rules "$F/bad-cat.conf" /dev/null
	[[ $stderr == "logcategorize: $F/bad-cat.conf:1: bad category name 'd/b'"* ]]
	run -2 --separate-stderr logcategorize --rules "$F/bad-record.conf" /dev/null
	[[ $stderr == "logcategorize: $F/bad-record.conf:1: record filter at column 21: "* ]]
	printf 'db record source:db | limit 1\n' > piped.conf
	run -2 --separate-stderr logcategorize --rules piped.conf /dev/null
	[ "$stderr" = "logcategorize: piped.conf:1: a record rule is a filter; pipes ('|') are not allowed" ]
	run -2 --separate-stderr logcategorize --rules nonexistent.conf
	[ "$stderr" = "logcategorize: nonexistent.conf: No such file or directory" ]
}

@test "logcategorize: --into twice is idempotent (hard links, same output, same tree)" {
	mktree
	run -0 --separate-stderr logcategorize --into C cluster
	echo "$output" > first
	(cd C && find . -path ./.logcategorize-placed -prune -o -type f -print | sort) > tree1
	run -0 --separate-stderr logcategorize --into C cluster
	echo "$output" > second
	(cd C && find . -path ./.logcategorize-placed -prune -o -type f -print | sort) > tree2
	expect_same first second
	expect_same tree1 tree2
	[ "$(wc -l < tree1)" -eq "$(wc -l < "$F/names.expected")" ]
	[ C/server/server-0.log -ef cluster/raw/login1/server-0.log ]
	[ "$(jq -r 'select(.path | endswith("/job-48213.err")) | .into' first)" = C/slurm/job-48213.err ]
}

@test "logcategorize: name clashes never overwrite: host subdirectory, else a suffix" {
	mkdir a b c
	echo one > a/server-1.log; echo two > b/server-1.log; echo three > c/server-1.log
	printf '{"path":"b/server-1.log","host":"node2"}\n' > rec
	run -0 logcategorize --into C a/server-1.log
	run -0 --separate-stderr logcategorize --into C < rec
	[ "$(echo "$output" | jq -r .into)" = C/server/node2/server-1.log ]
	run -0 --separate-stderr logcategorize --into C c/server-1.log
	[ "$(echo "$output" | jq -r .into)" = C/server/server-1-2.log ]
	[ "$(cat C/server/server-1.log)" = one ]
	[ "$(cat C/server/node2/server-1.log)" = two ]
	[ "$(cat C/server/server-1-2.log)" = three ]
	# a re-run places nothing new
	run -0 logcategorize --into C c/server-1.log a/server-1.log
	[ "$(find C -type f | wc -l)" -eq 4 ]
}

@test "logcategorize: a replaced source (rsync writes a new inode) updates its own placement" {
	mkdir a && echo v1 > a/client-1.log
	run -0 logcategorize --into C a/client-1.log
	echo v2 > new && mv new a/client-1.log
	run -0 --separate-stderr logcategorize --into C a/client-1.log
	[ "$(echo "$output" | jq -r .into)" = C/client/client-1.log ]
	[ "$(cat C/client/client-1.log)" = v2 ]
	[ "$(find C/client -type f | wc -l)" -eq 1 ]
}

@test "logcategorize: --symlink places absolute symlinks, idempotently" {
	mkdir a && echo x > a/grafana.log
	run -0 logcategorize --into C --symlink a/grafana.log
	run -0 logcategorize --into C --symlink a/grafana.log
	[ -L C/monitoring/grafana.log ]
	[ "$(readlink C/monitoring/grafana.log)" = "$T/a/grafana.log" ]
	[ "$(find C/monitoring | wc -l)" -eq 2 ]
	run -2 --separate-stderr logcategorize --symlink a/grafana.log
}

@test "logcategorize: --into copies across file systems" {
	[ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d .)" ] || skip "no second file system"
	d=$(mktemp -d /dev/shm/lc.XXXXXX)
	echo x > "$d/vllm.log"
	run -0 logcategorize --into C "$d/vllm.log"
	rm -rf "$d"
	[ "$(cat C/vllm/vllm.log)" = x ]
}

@test "logcategorize: --stats counts files, bytes, newest mtime per category" {
	mkdir h
	printf 'aaaa' > h/server-1.log; printf 'bb' > h/server-2.log; printf 'c' > h/notes.txt
	touch -d 2025-05-17T04:44:04Z h/server-1.log
	touch -d 2025-05-18T00:00:00Z h/server-2.log
	touch -d 2025-01-01T00:00:00Z h/notes.txt
	run -0 --separate-stderr logcategorize --stats h
	echo "$output" > actual
	printf '%s\n' '{"category":"server","files":2,"bytes":6,"newest":"2025-05-18T00:00:00.000000000Z"}' \
		'{"category":"uncategorized","files":1,"bytes":1,"newest":"2025-01-01T00:00:00.000000000Z"}' > expected
	expect_same expected actual
}

@test "logcategorize: --list CATEGORY --limit N gives the newest first" {
	mkdir h
	for i in 1 2 3; do echo "$i" > "h/client-$i.log"; touch -d "2025-05-1${i}T00:00:00Z" "h/client-$i.log"; done
	echo x > h/server-1.log
	run -0 --separate-stderr logcategorize --list client --limit 2 h
	echo "$output" | jq -r .path > actual
	printf 'h/client-3.log\nh/client-2.log\n' > expected
	expect_same expected actual
	run -2 logcategorize --limit 2 h
	run -2 logcategorize --list client --limit x h
}

@test "logcategorize: malformed, binary and huge input" {
	printf '{"path":"server-1.log"\n{"path":1}\n[1]\n' > bad
	run -1 --separate-stderr logcategorize < bad
	[ "$stderr" = "logcategorize: <stdin>:1: not a JSON object" ]
	# {"path":1} has no usable path; [1] is taken as a bare path
	[ "$(echo "$output" | jq -r .category | tr '\n' ' ')" = "uncategorized uncategorized " ]
	head -c 100000 /dev/urandom | tr -d '\n{\000' > bin
	printf '\n' >> bin
	run -0 --separate-stderr logcategorize < bin
	[ "$(echo "$output" | jq -r .category)" = uncategorized ]
	printf 'a\0b.log\nserver-1.log\n' > nul
	run -1 --separate-stderr logcategorize < nul
	[ "$stderr" = "logcategorize: <stdin>:1: NUL byte in path" ]
	[ "$(echo "$output" | jq -r .category)" = server ]
	head -c 3000000 /dev/zero | tr '\0' a > huge; echo "-server-.log" >> huge
	run -0 --separate-stderr logcategorize < huge
	[ "$(echo "$output" | jq -r .category)" = server ]
	printf 'server-1.log' > trunc
	run -0 logcategorize < trunc
	[ "$(echo "$output" | jq -r .category)" = server ]
	run -1 --separate-stderr logcategorize nonexistent
	[ "$stderr" = "logcategorize: nonexistent: No such file or directory" ]
}

@test "logcategorize: closed stdout, full disk, a reader that goes away, usage" {
	seq 200000 | sed 's/$/-server-.log/' > many
	run -2 --separate-stderr bash -c 'logcategorize < many >&-'
	[ "$stderr" = "logcategorize: stdout: Bad file descriptor" ]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logcategorize < many > /dev/full'
	[[ $stderr == "logcategorize: "*"No space left on device" ]]
	run -0 --separate-stderr bash -c 'logcategorize < many | head -1'
	[ -z "$stderr" ]
	run -2 --separate-stderr logcategorize --bogus
	[[ $stderr == *"usage: logcategorize"* ]]
	run -0 logcategorize --help
	run -0 logcategorize --version
	[ "$output" = "logcategorize 0.1.0" ]
}

@test "logcategorize: record rules: a LogsQL filter on any field, with or without a file" {
	cat > in <<-'EOF'
	{"_msg":"checkpoint done","source":"db"}
	{"_msg":"step 10","host":"gpu3"}
	{"_msg":"step 11","host":"gpu3","level":"debug"}
	{"path":"raw/gpu1/server-1.log","host":"gpu1"}
	{"path":"raw/n1/app.log","source":"db","host":"gpu2"}
	{"_msg":"query","duration":42}
	{"_msg":"query","duration":"3"}
	{"_msg":"no rule for me","category":"stale"}
	{"path":"raw/n1/gpu-3.log","host":"n1"}
	{"path":"raw/n1/server-2.log","host":"n1"}
	raw/n1/server-3.log
	raw/gpu1/gpu-9.log
	EOF
	run -0 --separate-stderr logcategorize --rules "$F/records-rules.conf" < in
	echo "$output" | jq -r .category > actual
	printf '%s\n' db gpu uncategorized gpu db slow uncategorized uncategorized gpu-name server \
		server gpu-name > expected
	expect_same expected actual
	[ -z "$stderr" ]
	# the other fields come through untouched
	[ "$(echo "$output" | head -1 | jq -c .)" = '{"_msg":"checkpoint done","source":"db","category":"db"}' ]
	# the same rule file as a filter: builtins off, only db records
	run -0 logcategorize --rules "$F/record.conf" < in
	[ "$(echo "$output" | jq -r 'select(.category == "db") | ._msg // .path' | tr '\n' ' ')" = "checkpoint done raw/n1/app.log " ]
}

@test "logcategorize: a symlink operand places its target under the link's name" {
	mkdir h && echo data > h/target.txt && ln -s target.txt h/client-7.log
	run -0 --separate-stderr logcategorize --into C h/client-7.log
	[ "$(echo "$output" | jq -r '[.category, .into] | @tsv')" = "$(printf 'client\tC/client/client-7.log')" ]
	[ -f C/client/client-7.log ] && [ ! -L C/client/client-7.log ]
	[ C/client/client-7.log -ef h/target.txt ]
	run -0 logcategorize --into C h/client-7.log
	[ "$(find C/client -type f | wc -l)" -eq 1 ]
	run -0 logcategorize --into S --symlink h/client-7.log
	[ "$(readlink S/client/client-7.log)" = "$T/h/target.txt" ]
	# a directory walk does not follow it at all
	run -0 logcategorize h
	[ "$(echo "$output" | jq -r .path)" = h/target.txt ]
}

@test "logcategorize: a directory named on stdin cannot be placed or counted (exit 1)" {
	mkdir -p h/server-dir && echo x > h/server-1.log
	printf 'h/server-dir\nh/server-1.log\n' > paths
	run -1 --separate-stderr logcategorize --into C < paths
	[ "$stderr" = "logcategorize: h/server-dir: not a regular file, not placed" ]
	[ "$(echo "$output" | jq -r .into | tr '\n' ' ')" = "null C/server/server-1.log " ]
	run -1 --separate-stderr logcategorize --stats < paths
	[ "$stderr" = "logcategorize: h/server-dir: not a regular file" ]
	[ "$(echo "$output" | jq -c '[.category, .files]')" = '["server",1]' ]
}

@test "logcategorize: --stats is a table on a terminal, JSON lines elsewhere" {
	command -v script > /dev/null || skip "no script(1)"
	mkdir h && printf 'aaaa' > h/server-1.log && printf 'c' > h/notes.txt
	touch -d 2025-05-17T04:44:04Z h/server-1.log h/notes.txt
	script -qec "logcategorize --stats h" /dev/null > tty
	tr -d '\r' < tty > actual
	printf '%-16s %8s %14s  %s\n' CATEGORY FILES BYTES NEWEST \
		server 1 4 2025-05-17T04:44:04.000000000Z uncategorized 1 1 2025-05-17T04:44:04.000000000Z > expected
	expect_same expected actual
	run -0 logcategorize --stats h
	[ "$(echo "$output" | head -1)" = '{"category":"server","files":1,"bytes":4,"newest":"2025-05-17T04:44:04.000000000Z"}' ]
}
