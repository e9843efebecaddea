#!/usr/bin/env bats
# logunpack.bats: formats, records, --lines, caps and the malicious archives (built here, by mkevil.py).
bats_require_minimum_version 1.5.0
load helper

F=$BATS_TEST_DIRNAME/fixtures/fetch-unpack

# A small run: JSON lines (one malformed, one CRLF), plain text without a final newline.
mkrun() {
	mkdir -p src/run
	printf '{"a":1}\n{"b":"x","n":[1,{"c":null}]}\r\n{"broken":\n\n{}\nnot json {\n' > src/run/app.log
	printf 'first line\nsecond \xff line' > src/run/service.log
	printf 'a\tb\n' > src/run/notes.txt
}

# list DIR: every path under it with its type and size, for before/after comparisons
list() { find "$1" -mindepth 1 -printf '%P %y %s %l\n' | LC_ALL=C sort; }

# around: everything in $T but the extraction targets under work/, plus the
# places absolute members name (outside/, /etc/passwd, /tmp/x)
around() {
	find "$T" -path "$T/work/*" -prune -o -printf '%P %y %s %l\n' | LC_ALL=C sort
	sha256sum /etc/passwd
	ls -ld /tmp/x 2>&1 || true
}

# small_fs DIR: a 1 MiB tmpfs at DIR (a disk that fills up), or skip
small_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=1m tmpfs "$1" 2>/dev/null || skip "cannot mount a tmpfs here"
	SMALL_FS=$1
}

local_teardown() {
	[ -n "${SMALL_FS:-}" ] && umount "$SMALL_FS" 2>/dev/null
	return 0
}

@test "tar.zst extracts beside the archive, one record per entry" {
	mkrun
	(cd src && tar -cf - run) | zstd -q -o R.tar.zst
	run -0 --separate-stderr logunpack R.tar.zst
	[ -z "$stderr" ]
	diff -r src/run R/run
	[ "${#lines[@]}" -eq 4 ]
	[[ $output == *'{"archive":"R.tar.zst","path":"R/run","bytes":0,"type":"dir"}'* ]]
	[[ $output == *'{"archive":"R.tar.zst","path":"R/run/app.log","bytes":'$(stat -c %s src/run/app.log)',"type":"file"}'* ]]
	[ -z "$(find R -name '.logunpack-*')" ]
}

@test "every compression and zip; single compressed files under their own name" {
	mkrun
	local c
	for c in --zstd --gzip --xz --bzip2 --lz4 ""; do
		rm -rf out && mkdir out
		bsdtar $c -cf a.tar.any -C src run
		run -0 --separate-stderr logunpack -C out a.tar.any
		diff -r src/run out/run
	done
	(cd src && zip -qr ../a.zip run)
	run -0 --separate-stderr logunpack a.zip
	diff -r src/run a/run
	for c in zst gz xz; do
		case $c in zst) zstd -q -c src/run/app.log ;; gz) gzip -c src/run/app.log ;; xz) xz -c src/run/app.log ;; esac > "app.log.$c"
		rm -rf app.log
		run -0 --separate-stderr logunpack "app.log.$c"
		cmp src/run/app.log app.log/app.log
	done
}

@test "--lines: JSON objects pass through with _file/_line, text lines become _msg, malformed kept" {
	mkrun
	(cd src && tar -cf - run/app.log run/service.log) | zstd -q -o R.tar.zst
	run -0 --separate-stderr logunpack --lines R.tar.zst
	printf '%s\n' "$output" > actual
	cat > expected <<'X'
{"a":1,"_file":"run/app.log","_line":1}
{"b":"x","n":[1,{"c":null}],"_file":"run/app.log","_line":2}
{"_msg":"{\"broken\":","_file":"run/app.log","_line":3,"_parse_error":"unexpected end of line"}
{"_file":"run/app.log","_line":5}
{"_msg":"not json {","_file":"run/app.log","_line":6}
{"_msg":"first line","_file":"run/service.log","_line":1}
{"_msg":"second \ufffd line","_file":"run/service.log","_line":2}
X
	sed -i 's/\\ufffd/\xef\xbf\xbd/' expected
	expect_same expected actual
	[[ $stderr == *"logunpack: R.tar.zst: run/app.log:3: malformed JSON (unexpected end of line), kept as _msg"* ]]
	[ ! -e R ]
	jq -e . actual > /dev/null
}

@test "--lines: records that already have _file/_line, and --member globs; missing members ignored" {
	mkdir -p src && printf '{"_file":"mine","_line":"x","k":1}\n' > src/own.jsonl && printf 'x\n' > src/other.txt
	tar -C src -czf r.tgz own.jsonl other.txt
	run -0 --separate-stderr logunpack --lines --member '*.jsonl' r.tgz
	[ "$output" = '{"_file":"own.jsonl","_line":1,"k":1}' ]
	run -0 --separate-stderr logunpack --lines --member 'nosuch*.log' r.tgz
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "--lines: a member is binary by its first 8 KiB, however libarchive splits the blocks" {
	# bin's data starts 4 bytes before the end of the first 1 MiB read
	# (the 4 bytes sniffed for the zstd magic come first): its first
	# block is "abcd", its NUL is in the second.
	mkdir src
	yes 'a line of text' | head -c 1047552 > src/text.log
	[ "$(stat -c %s src/text.log)" -eq 1047552 ]
	printf 'abcd\0efgh\nijkl\n' > src/bin
	tar -C src -cf two.tar text.log bin
	[ "$(grep -abo efgh two.tar | cut -d: -f1)" -eq 1048581 ]
	run -0 --separate-stderr logunpack --lines two.tar
	[ "$stderr" = "logunpack: two.tar: bin: binary member skipped" ]
	[[ $output != *'"_file":"bin"'* ]]
	printf 'x\0y\n' | gzip > b.gz
	run -0 --separate-stderr logunpack --lines b.gz
	[ -z "$output" ]
	[ "$stderr" = "logunpack: b.gz: b: binary member skipped" ]
}

@test "stdin: an archive given as records is one clear error; '-' reads it" {
	mkrun
	tar -C src -cf R.tar run
	run -1 --separate-stderr logunpack --lines < R.tar
	[ "$stderr" = "logunpack: <stdin>:1: binary data, not JSON records (read an archive from standard input with '-')" ]
	[ -z "$output" ]
	run -0 --separate-stderr logunpack --lines - < R.tar
	[[ $output == *'{"_msg":"first line","_file":"run/service.log","_line":1}'* ]]
	run -1 --separate-stderr logunpack - < R.tar
	[ "$stderr" = "logunpack: <stdin>: give a target directory with -C" ]
	run -0 --separate-stderr logunpack -C out - < R.tar
	diff -r src/run out/run
	printf '{"path":"nosuch.tar"}\n{"path":3}\n{"path":\n' > recs
	run -1 --separate-stderr logunpack --lines < recs
	[ "$stderr" = "logunpack: nosuch.tar: No such file or directory
logunpack: <stdin>:2: record without a path field
logunpack: <stdin>:3: truncated JSON" ]
}

@test "a full disk: the member is named, no temp file stays, the rest is there" {
	mkdir -p src && echo small > src/a.txt && head -c 2000000 /dev/urandom > src/big.bin && echo z > src/z.txt
	tar -C src -cf - a.txt big.bin z.txt | zstd -q -o t.tar.zst
	small_fs "$T/small"
	run -1 --separate-stderr logunpack -C small/t t.tar.zst
	[ "$stderr" = "logunpack: t.tar.zst: big.bin: No space left on device" ]
	[ "$(ls -A small/t)" = a.txt ]
	cmp src/a.txt small/t/a.txt
}

@test "SIGTERM in the middle of a member: its temp file goes, nothing stays under its name" {
	mkdir src
	head -c 3000000 /dev/urandom > src/big.bin
	tar -C src -cf t.tar big.bin
	mkfifo p
	# A third of the archive, then the writer stalls: logunpack is inside big.bin.
	{ head -c 1000000 t.tar; sleep 10; } > p 3>&- &
	local writer=$! i
	logunpack -C out - < p 3>&- &
	local pid=$!
	for i in $(seq 100); do
		compgen -G 'out/.logunpack-*.tmp' > /dev/null && break
		sleep 0.05
	done
	compgen -G 'out/.logunpack-*.tmp' > /dev/null
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	kill "$writer" 2>/dev/null || true
	[ "$rc" -eq 143 ]
	[ -z "$(ls -A out)" ]
}

@test "--lines: a huge line, a binary member skipped, records from logfetch on stdin" {
	mkdir -p src
	head -c 3000000 /dev/zero | tr '\0' 'x' > src/huge.log && echo >> src/huge.log
	head -c 1000 /dev/urandom > src/blob.bin && printf '\0' >> src/blob.bin
	tar -C src -cf - huge.log blob.bin | zstd -q -o h.tar.zst
	printf '{"url":"http://x/h.tar.zst","path":"h.tar.zst","status":"downloaded"}\n{"url":"http://x/y","path":"cache/y","status":"failed"}\n' > fetched.jsonl
	run -1 --separate-stderr logunpack --lines < fetched.jsonl
	[ "${#lines[@]}" -eq 1 ]
	[ "${#output}" -gt 3000000 ]
	[[ $stderr == *"h.tar.zst: blob.bin: binary member skipped"* ]]
}

@test "an existing target is refused unless --overwrite; --strict refuses the whole archive" {
	mkrun
	tar -C src -cf R.tar run
	mkdir R && echo keep > R/mine
	run -1 --separate-stderr logunpack R.tar
	[[ $stderr == *"logunpack: R: target exists and is not empty (use --overwrite)"* ]]
	[ "$(ls R)" = mine ]
	run -0 --separate-stderr logunpack --overwrite R.tar
	diff -r src/run R/run
	python3 "$F/mkevil.py" . "$T/outside"
	mkdir out
	run -1 --separate-stderr logunpack --strict -C out zipslip.tar
	[ -z "$output" ]
	[[ $stderr == *"refused as a whole (--strict)"* ]]
	[ -z "$(ls -A out)" ]
	# --lines --strict: the records of the members before the refusal are not printed either.
	printf 'a\nb\n' > src/run/big.log
	head -c 3000000 /dev/zero | tr '\0' y >> src/run/big.log
	tar -C src -cf S.tar run/app.log run/big.log
	run -1 --separate-stderr logunpack --lines --strict --max-bytes 1M S.tar
	[ -z "$output" ]
	[[ $stderr == *"logunpack: S.tar: run/big.log: output exceeds 1048576 bytes (--max-bytes); archive refused from here
logunpack: S.tar: refused as a whole (--strict); no records" ]]
	run -1 --separate-stderr logunpack --lines --max-bytes 1M S.tar
	[[ $output == '{"a":1,"_file":"run/app.log","_line":1}'* ]]
}

@test "random data, a plain file, an empty file are not archives; tar, zip, gzip, xz cut short name the member" {
	head -c 10000 /dev/urandom > junk.tar.zst
	printf 'hello\n' > plain.log
	: > empty.tar
	for a in junk.tar.zst plain.log; do
		run -1 --separate-stderr logunpack "$a"
		[ "$stderr" = "logunpack: $a: not an archive or a compressed file (tar, zip, zstd, gzip, xz, bzip2, lz4)" ]
		[ -z "$output" ]
		run -1 --separate-stderr logunpack --lines "$a"
		[ -z "$output" ]
	done
	[ ! -e junk ]
	[ ! -e plain.log.d ]
	run -1 --separate-stderr logunpack empty.tar
	[ "$stderr" = "logunpack: empty.tar: Unrecognized archive format" ]
	[ ! -e empty ]
	mkdir -p src && head -c 2000000 /dev/urandom > src/big.bin && echo small > src/a.txt
	tar -C src -cf t.tar a.txt big.bin
	gzip -k t.tar && xz -k t.tar && (cd src && zip -q ../t.zip a.txt big.bin)
	local a
	for a in t.tar t.tar.gz t.tar.xz t.zip; do
		head -c 1000000 "$a" > "cut-$a"
		run -1 --separate-stderr logunpack -C "out-$a" "cut-$a"
		[[ $stderr == "logunpack: cut-$a: big.bin: "* ]]
		[ "$output" = '{"archive":"cut-'$a'","path":"out-'$a'/a.txt","bytes":6,"type":"file"}' ]
		[ "$(ls -A "out-$a")" = a.txt ]
	done
}

@test "truncated and corrupt archives: the member is named, nothing half-written stays" {
	mkdir -p src && head -c 2000000 /dev/urandom > src/big.bin && echo small > src/a.txt
	tar -C src -cf - a.txt big.bin | zstd -q -o t.tar.zst
	head -c 1000000 t.tar.zst > cut.tar.zst
	run -1 --separate-stderr logunpack cut.tar.zst
	[[ $stderr == *"logunpack: cut.tar.zst: big.bin: truncated zstd stream"* ]]
	[ ! -e cut/big.bin ]
	[ -z "$(find cut -name '.logunpack-*')" ]
	cmp src/a.txt cut/a.txt
	cp t.tar.zst bad.tar.zst
	printf 'XXXXXXXXXXXXXXXX' | dd of=bad.tar.zst bs=1 seek=500000 conv=notrunc status=none
	run -1 --separate-stderr logunpack -C bad bad.tar.zst
	[[ $stderr == *"big.bin: zstd: "* ]]
	[ -z "$(find bad -name '.logunpack-*')" ]
}

@test "malicious archives: each refused, nothing written outside the target" {
	mkdir outside work
	python3 "$F/mkevil.py" . "$T/outside"
	local before after a
	before=$(around)
	for a in zipslip.tar zipslip.zip absolute.tar symroot.tar through.tar chain.tar hardlink.tar device.tar; do
		run -1 --separate-stderr logunpack -C "work/${a%.*}" "$a"
		[ -n "$stderr" ]
	done
	# zip-slip's ../../x would land in $T itself: the whole of $T is compared.
	after=$(around)
	[ "$before" = "$after" ]
	[ -z "$(ls -A outside)" ]
	[[ $(logunpack -C work/z2 zipslip.tar 2>&1 >/dev/null) == *"zipslip.tar: ../../x: '..' component"* ]]
	[[ $(logunpack -C work/z3 absolute.tar 2>&1 >/dev/null) == *"absolute.tar: $T/outside/abs: absolute path"* ]]
	[[ $(logunpack -C work/z4 hardlink.tar 2>&1 >/dev/null) == *"pw: hard link to '/etc/passwd'"* ]]
	[[ $(logunpack -C work/z5 device.tar 2>&1 >/dev/null) == *"null: device node"*"suid: setuid or setgid bit"* ]]
	# Only the harmless members are there, and nothing but them.
	[ "$(list work/zipslip)" = "ok.txt f 5 " ]
	[ "$(list work/absolute)" = "ok.txt f 5 " ]
	[ "$(list work/device)" = "good.txt f 5 " ]
	[ -z "$(list work/hardlink)" ]
	[ -z "$(find work -samefile /etc/passwd)" ]
	[ -z "$(find work -type c -o -type b -o -type p -o -perm /6000)" ]
	# A symlink to / is refused; the member under it lands inside as a real directory.
	[ ! -L work/symroot/root ]
	[ -z "$(find work -type l -lname '/*')" ]
	[ ! -e work/through/d/x ]
	[ ! -e work/through/sub/x ]
	[ "$(readlink work/chain/l1)" = . ]
	[ ! -L work/chain/l2 ]
}

@test "two archives: a planted symlink is never written through" {
	mkdir outside
	python3 "$F/mkevil.py" . "$T/outside"
	mkdir t
	run -1 --separate-stderr logunpack -C t plant1.tar
	[[ $stderr == *"link: symlink to '../outside': link points outside the target"* ]]
	# Plant it anyway, as an unsafe tool (or a person) would have.
	ln -s "$T/outside" t/link
	run -1 --separate-stderr logunpack --overwrite -C t plant2.tar
	[[ $stderr == *"link/pwned: path goes through a symlink or a non-directory"* ]]
	[[ $stderr == *"inlink/../../pwned2: '..' component"* ]]
	[[ $stderr == *"inlink/x: path goes through a symlink or a non-directory"* ]]
	[ -z "$(ls -A outside)" ]
	[ ! -e pwned2 ]
	[ ! -e t/x ]
}

@test "a 10 GiB zstd bomb stops at the ratio cap and at --max-bytes; a 2 GiB window is refused" {
	mkdir outside
	python3 "$F/mkevil.py" . "$T/outside"
	run -1 --separate-stderr timeout 20 logunpack -C b1 bomb.tar.zst
	[[ $stderr == *"bomb.log: compression ratio above 1000 (--max-ratio)"* ]]
	[ -z "$(ls -A b1)" ]
	run -1 --separate-stderr timeout 20 logunpack --max-ratio 0 --max-bytes 20M -C b2 bomb.tar.zst
	[[ $stderr == *"bomb.log: output exceeds 20971520 bytes (--max-bytes)"* ]]
	[ -z "$(ls -A b2)" ]
	run -1 --separate-stderr timeout 20 logunpack --lines bomb.tar.zst
	[[ $stderr == *"compression ratio above 1000"* ]]
	run -1 --separate-stderr logunpack --lines window.log.zst
	[[ $stderr == *"window.log.zst: zstd window larger than --max-window (134217728 bytes)"* ]]
	[ -z "$output" ]
	run -0 --separate-stderr logunpack --lines --max-window 2G window.log.zst
	[ "$output" = '{"_msg":"hello from a huge window","_file":"window.log","_line":1}' ]
}

@test "a 1 KiB tar.zst of one 10 GiB hole is a bomb too; real sparse members keep their size" {
	mkdir outside
	python3 "$F/mkevil.py" . "$T/outside"
	[ "$(stat -c %s sparse.tar.zst)" -lt 1024 ]
	run -1 --separate-stderr logunpack -C b1 sparse.tar.zst
	[ "$stderr" = "logunpack: sparse.tar.zst: holes.log: output exceeds 1073741824 bytes (--max-bytes); archive refused from here" ]
	[ -z "$output" ]
	[ ! -e b1 ]
	run -1 --separate-stderr logunpack --max-bytes 20G -C b2 sparse.tar.zst
	[[ $stderr == *"holes.log: compression ratio above 1000 (--max-ratio)"* ]]
	# A sparse file with data between holes and a hole at the end comes back whole.
	mkdir src
	truncate -s 3M src/sp.log
	echo start | dd of=src/sp.log conv=notrunc status=none
	echo middle | dd of=src/sp.log bs=1M seek=1 conv=notrunc status=none
	tar -C src --sparse -cf - sp.log | zstd -q -o sp.tar.zst
	run -0 --separate-stderr logunpack sp.tar.zst
	[ "$output" = '{"archive":"sp.tar.zst","path":"sp/sp.log","bytes":3145728,"type":"file"}' ]
	cmp src/sp.log sp/sp.log
}

@test "--max-entries caps the number of members" {
	mkdir -p src && for i in 1 2 3 4 5; do echo $i > src/f$i; done
	tar -C src -cf five.tar f1 f2 f3 f4 f5
	run -1 --separate-stderr logunpack --max-entries 3 five.tar
	[[ $stderr == *"more than 3 entries (--max-entries)"* ]]
	[ "$(ls five)" = "$(printf 'f1\nf2\nf3')" ]
}

@test "usage, --help, --version, bad numbers, missing files" {
	run -2 --separate-stderr logunpack --nosuch
	[[ $stderr == *"usage: logunpack"* ]]
	run -0 logunpack --help
	[[ $output == "usage: logunpack"* ]]
	run -0 logunpack --version
	[[ $output == "logunpack "* ]]
	run -2 --separate-stderr logunpack --max-bytes 12Q x
	[[ $stderr == *"--max-bytes: expected a number"* ]]
	run -2 --separate-stderr logunpack --lines -C d x
	run -1 --separate-stderr logunpack nosuch.tar
	[ "$stderr" = "logunpack: nosuch.tar: No such file or directory" ]
}

@test "output errors: closed stdout and a full disk are status 2, a reader gone is quiet" {
	mkrun
	tar -C src -cf R.tar run
	run -2 --separate-stderr bash -c 'logunpack --lines R.tar >&-'
	[[ $stderr == *"logunpack: stdout is closed"* ]]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logunpack --lines R.tar > /dev/full'
	[[ $stderr == *"write error: No space left on device"* ]]
	for i in $(seq 30000); do echo "line $i of a long member"; done > src/run/long.log
	tar -C src -cf L.tar run
	run -0 --separate-stderr bash -c 'set -o pipefail; logunpack --lines L.tar | head -1 > /dev/null; echo "${PIPESTATUS[0]}"'
	[ "$output" = 141 ]
	[ -z "$stderr" ]
}
