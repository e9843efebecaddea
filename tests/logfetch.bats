#!/usr/bin/env bats
# logfetch.bats: a real nginx (Range, 206/416, ETag, 304, If-Range) and the httpfault server (drops, retries, redirects, credentials).
bats_require_minimum_version 1.5.0
load helper

FAULT=$BATS_TEST_DIRNAME/servers/httpfault.py
export LOGFETCH_RETRY_BASE_MS=50

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL [CURL-OPTION...]: up to 5 s for a server to answer
wait_http() {
	local i
	for i in $(seq 50); do
		curl -s -o /dev/null "$@" && return 0
		sleep 0.1
	done
	echo "server at $1 did not come up" >&2
	return 1
}

# run_nginx DIR LISTEN [DIRECTIVE...]: nginx serving $T/www, state in $T/DIR, in the background (pid in $!)
run_nginx() {
	local d=$1 listen=$2
	shift 2
	mkdir -p www "$d/tmp"
	cat > "$d/nginx.conf" <<X
daemon off;
master_process off;
pid $T/$d/nginx.pid;
error_log $T/$d/error.log;
events { worker_connections 64; }
http {
	access_log $T/$d/access.log;
	client_body_temp_path $T/$d/tmp;
	proxy_temp_path $T/$d/tmp;
	fastcgi_temp_path $T/$d/tmp;
	uwsgi_temp_path $T/$d/tmp;
	scgi_temp_path $T/$d/tmp;
	server {
		listen $listen;
		root $T/www;
		$*
	}
}
X
	timeout 120 nginx -c "$T/$d/nginx.conf" -p "$T/$d" 2>"$d/stderr" &
	echo ok > www/ping
}

start_nginx() {
	NPORT=$(free_port)
	run_nginx ngx "127.0.0.1:$NPORT" 'location /slow/ { limit_rate 1m; }'
	NGINX_PID=$!
	wait_http "http://127.0.0.1:$NPORT/ping"
	N=http://127.0.0.1:$NPORT
}

# start_nginx_tls: nginx over TLS with a certificate for 127.0.0.1 signed by
# a throwaway CA (ca.pem); sets S=https://127.0.0.1:PORT
start_nginx_tls() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
		-subj /CN=logkit-test-ca 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
		-subj /CN=127.0.0.1 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' > srv.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile srv.ext -out srv.pem 2>/dev/null
	SPORT=$(free_port)
	run_nginx ngxs "127.0.0.1:$SPORT ssl" "ssl_certificate $T/srv.pem;" "ssl_certificate_key $T/srv.key;"
	NGINXS_PID=$!
	wait_http "https://127.0.0.1:$SPORT/ping" --cacert ca.pem
	S=https://127.0.0.1:$SPORT
}

# small_fs DIR: a 1 MiB tmpfs at DIR (a disk that fills up), or skip
small_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=1m tmpfs "$1" 2>/dev/null || skip "cannot mount a tmpfs here"
	SMALL_FS=$1
}

# start_fault NAME: an httpfault server; sets ${NAME}_PORT, logs to NAME.log
start_fault() {
	python3 "$FAULT" --port-file "$1.port" --log "$1.log" --payload-out payload --lifetime 120 &
	eval "${1}_PID=$!"
	local i
	for i in $(seq 50); do [ -s "$1.port" ] && break; sleep 0.1; done
	eval "${1}_PORT=$(cat "$1.port")"
}

local_teardown() {
	local p
	for p in "${NGINX_PID:-}" "${NGINXS_PID:-}" "${A_PID:-}" "${B_PID:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${SMALL_FS:-}" ] && umount "$SMALL_FS" 2>/dev/null
	return 0
}

# requests LOG PATH-PREFIX: how many requests the fault server saw for it
requests() { grep -c "\"path\": \"$2" "$1" || true; }

@test "nginx: download, then 304 keeps the cached copy, a changed file is fetched again" {
	start_nginx
	head -c 1000000 /dev/urandom > www/R.tar.zst
	run -0 --separate-stderr logfetch "$N/R.tar.zst"
	[ -z "$stderr" ]
	[[ $output == '{"url":"'$N'/R.tar.zst","path":"cache/R.tar.zst","bytes":1000000,"status":"downloaded","sha256":"'$(sha256sum < www/R.tar.zst | cut -c1-64)'","http_status":200,"seconds":'*',"error":null}' ]]
	cmp www/R.tar.zst cache/R.tar.zst
	run -0 --separate-stderr logfetch "$N/R.tar.zst"
	[[ $output == *'"status":"cached"'*'"http_status":304'* ]]
	[ "$(grep -c '"GET /R.tar.zst HTTP/1.1" 304' ngx/access.log)" -eq 1 ]
	sleep 1.1	# a new Last-Modified second, and so a new ETag
	head -c 5000 /dev/urandom > www/R.tar.zst
	run -0 --separate-stderr logfetch "$N/R.tar.zst"
	[[ $output == *'"bytes":5000,"status":"downloaded"'* ]]
	cmp www/R.tar.zst cache/R.tar.zst
	[ -z "$(find cache -name '*.part')" ]
}

@test "nginx: 20 MB with and without --no-fsync; a cached file cut short (a crash after --no-fsync) is fetched again" {
	start_nginx
	head -c 20000000 /dev/urandom > www/big.bin
	run -0 --separate-stderr logfetch "$N/big.bin"
	[[ $output == *'"bytes":20000000,"status":"downloaded"'* ]]
	cmp www/big.bin cache/big.bin
	run -0 --separate-stderr logfetch --no-fsync -o c2 "$N/big.bin"
	[[ $output == *'"bytes":20000000,"status":"downloaded"'* ]]
	cmp www/big.bin c2/big.bin
	# what a system crash soon after a --no-fsync rename may leave
	truncate -s 4096 c2/big.bin
	run -0 --separate-stderr logfetch --no-fsync -o c2 "$N/big.bin"
	[[ $output == *'"bytes":20000000,"status":"downloaded"'* ]]
	cmp www/big.bin c2/big.bin
	run -0 --separate-stderr logfetch --no-fsync -o c2 "$N/big.bin"
	[[ $output == *'"status":"cached"'* ]]
}

@test "nginx: a .part resumes with Range + If-Range (206); a changed file restarts (200); a whole .part gets 416" {
	start_nginx
	head -c 2000000 /dev/urandom > www/f.bin
	etag=$(curl -sI "$N/f.bin" | tr -d '\r' | sed -n 's/^ETag: //Ip')
	mkdir -p cache/R
	head -c 700000 www/f.bin > cache/R/f.bin.part
	printf 'etag %s\n' "$etag" > cache/R/.f.bin.part.meta
	run -0 --separate-stderr logfetch --run-id R "$N/f.bin"
	[[ $output == *'"path":"cache/R/f.bin","bytes":2000000,"status":"resumed"'*'"http_status":206'* ]]
	cmp www/f.bin cache/R/f.bin
	grep -q '"GET /f.bin HTTP/1.1" 206 1300000' ngx/access.log
	# The .part is from an older version: If-Range fails, nginx sends it whole.
	rm cache/R/f.bin cache/R/.f.bin.meta
	head -c 700000 /dev/zero > cache/R/f.bin.part
	printf 'etag "0-old"\n' > cache/R/.f.bin.part.meta
	run -0 --separate-stderr logfetch --run-id R "$N/f.bin"
	[[ $output == *'"status":"downloaded"'*'"http_status":200'* ]]
	cmp www/f.bin cache/R/f.bin
	# The .part is already whole: 416 with bytes */N, kept and verified.
	rm cache/R/f.bin cache/R/.f.bin.meta
	cp www/f.bin cache/R/f.bin.part
	printf 'etag %s\n' "$etag" > cache/R/.f.bin.part.meta
	run -0 --separate-stderr logfetch --run-id R --sha256 "$(sha256sum < www/f.bin | cut -c1-64)" "$N/f.bin"
	[[ $output == *'"status":"resumed"'*'"http_status":416'* ]]
	cmp www/f.bin cache/R/f.bin
}

@test "nginx: whole blocks are written with O_DIRECT, the tail and an unaligned resume through the page cache" {
	start_nginx
	head -c $((3 * 1048576 + 5)) /dev/urandom > www/odd.bin
	sum=$(sha256sum < www/odd.bin | cut -c1-64)
	run -0 --separate-stderr logfetch "$N/odd.bin"
	[[ $output == *"\"sha256\":\"$sum\""* ]]
	cmp www/odd.bin cache/odd.bin
	if command -v strace > /dev/null; then
		# (LeakSanitizer cannot run under ptrace, in `make asan`)
		ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=fcntl -o trace logfetch --no-fsync -o c2 "$N/odd.bin" > /dev/null
		grep -q 'F_SETFL.*O_DIRECT' trace
		cmp www/odd.bin c2/odd.bin
	fi
	# a .part that ends on a block boundary goes on direct; one that does not, buffered
	etag=$(curl -sI "$N/odd.bin" | tr -d '\r' | sed -n 's/^ETag: //Ip')
	for n in 1048576 1000001; do
		rm -rf c3 && mkdir c3
		head -c $n www/odd.bin > c3/odd.bin.part
		printf 'etag %s\n' "$etag" > c3/.odd.bin.part.meta
		run -0 --separate-stderr logfetch -o c3 "$N/odd.bin"
		[[ $output == *'"status":"resumed"'*"\"sha256\":\"$sum\""*'"http_status":206'* ]]
		cmp www/odd.bin c3/odd.bin
	done
	LOGFETCH_NO_DIRECT=1 run -0 --separate-stderr logfetch -o c4 "$N/odd.bin"
	[[ $output == *"\"sha256\":\"$sum\""* ]]
	cmp www/odd.bin c4/odd.bin
}

@test "nginx: --sha256 verifies; a mismatch removes the file and fails; -j downloads in parallel" {
	start_nginx
	local i
	for i in 1 2 3 4 5; do head -c $((i * 100000)) /dev/urandom > www/p$i.log; done
	run -1 --separate-stderr logfetch --sha256 "$(printf '%064d' 0)" "$N/p1.log"
	[[ $stderr == "logfetch: $N/p1.log: sha256 mismatch: expected 0000"* ]]
	[[ $output == *'"status":"failed"'* ]]
	[ -z "$(ls -A cache)" ]
	run -0 --separate-stderr logfetch --sha256 "$(sha256sum < www/p1.log | cut -c1-64 | tr a-f A-F)" "$N/p1.log"
	[[ $output == *'"status":"downloaded"'* ]]
	run -0 --separate-stderr logfetch -j 3 -o dl "$N/p2.log" "$N/p3.log" "$N/p4.log" "$N/p5.log"
	[ "${#lines[@]}" -eq 4 ]
	for i in 2 3 4 5; do cmp www/p$i.log dl/p$i.log; done
}

@test "nginx: 404 is permanent (one request), URLs and sha256 pairs from stdin, records with url" {
	start_nginx
	head -c 1000 /dev/urandom > www/a.log
	run -1 --separate-stderr logfetch --retries 5 "$N/nosuch.log"
	[ "$stderr" = "logfetch: $N/nosuch.log: HTTP 404" ]
	[[ $output == *'"status":"failed","sha256":null,"http_status":404,'*'"error":"HTTP 404"}' ]]
	[ "$(grep -c 'GET /nosuch.log' ngx/access.log)" -eq 1 ]
	{
		echo "$N/a.log $(sha256sum < www/a.log | cut -c1-64)"
		echo '{"url":"'$N'/a.log","sha256":"'$(printf '%064d' 1)'"}'
		echo '{"no_url":1}'
	} > in
	run -1 --separate-stderr logfetch -o c2 < in
	[ "${#lines[@]}" -eq 3 ]
	[[ $output == *'"status":"downloaded"'* ]]
	cmp www/a.log c2/a.log
	[[ $stderr == *"same cache file as $N/a.log"* ]]
	[[ $stderr == *"<stdin>:3: record without a url field"* ]]
}

@test "faults: a connection dropped mid-body resumes; without a validator it restarts" {
	start_fault A
	# No retry left: the .part stays, never a half file under the final name; the next run resumes it.
	run -1 --separate-stderr logfetch --retries 0 -o c0 "http://127.0.0.1:$A_PORT/drop/w.bin"
	[ "$stderr" = "logfetch: http://127.0.0.1:$A_PORT/drop/w.bin: transfer closed with 150000 bytes remaining to read" ]
	[ ! -e c0/w.bin ]
	[ "$(stat -c %s c0/w.bin.part)" -eq 150000 ]
	run -0 --separate-stderr logfetch -o c0 "http://127.0.0.1:$A_PORT/drop/w.bin"
	[[ $output == *'"bytes":300000,"status":"resumed"'*'"http_status":206'* ]]
	cmp payload c0/w.bin
	[ ! -e c0/w.bin.part ]
	run -0 --separate-stderr logfetch "http://127.0.0.1:$A_PORT/drop/x.bin"
	[[ $output == *'"bytes":300000,"status":"resumed"'*'"http_status":206'* ]]
	cmp payload cache/x.bin
	[ "$(requests A.log /drop/x.bin)" -eq 2 ]
	python3 -c 'import json,sys; h=[json.loads(l)["headers"] for l in open("A.log")][-1]; sys.exit(0 if h.get("Range") == "bytes=150000-" and h.get("If-Range") == "\"v1\"" else 1)'
	run -0 --separate-stderr logfetch "http://127.0.0.1:$A_PORT/drop-noetag/y.bin"
	[[ $output == *'"bytes":300000,"status":"downloaded"'* ]]
	cmp payload cache/y.bin
	# The file changed between the cut and the resume: If-Range sends it whole.
	run -0 --separate-stderr logfetch "http://127.0.0.1:$A_PORT/changing/z.bin"
	[[ $output == *'"status":"downloaded"'*'"http_status":200'* ]]
	run ! cmp -s payload cache/z.bin
}

@test "faults: 500 then 200 is retried; 429 waits for Retry-After; --retries bounds; 403 is not retried" {
	start_fault A
	local P=http://127.0.0.1:$A_PORT
	run -0 --separate-stderr logfetch "$P/flaky/a.bin"
	[[ $output == *'"status":"downloaded"'* ]]
	[ "$(requests A.log /flaky/a.bin)" -eq 2 ]
	run -0 --separate-stderr logfetch "$P/busy/b.bin"
	[ "$(requests A.log /busy/b.bin)" -eq 2 ]
	python3 -c 'import json,sys; t=[json.loads(l)["time"] for l in open("A.log") if "/busy/" in l]; sys.exit(0 if t[1]-t[0] >= 0.95 else 1)'
	run -1 --separate-stderr logfetch --retries 2 "$P/always500/c.bin"
	[ "$stderr" = "logfetch: $P/always500/c.bin: HTTP 500 (after 3 attempts)" ]
	[ "$(requests A.log /always500/c.bin)" -eq 3 ]
	run -1 --separate-stderr logfetch "$P/forbidden/d.bin"
	[ "$(requests A.log /forbidden/d.bin)" -eq 1 ]
	run -1 --separate-stderr logfetch "$P/gone/d.bin"
	[ "$(requests A.log /gone/d.bin)" -eq 1 ]
	# 408 is the one 4xx besides 429 that is worth asking again.
	run -0 --separate-stderr logfetch "$P/timeout408/g.bin"
	[ "$(requests A.log /timeout408/g.bin)" -eq 2 ]
	cmp payload cache/g.bin
	run -1 --separate-stderr logfetch --retries 1 "http://127.0.0.1:$(free_port)/x.bin"
	[[ $stderr == *"(after 2 attempts)"* ]]
	run -1 --separate-stderr timeout 10 logfetch --retries 50 --max-time 1 "$P/always500/e.bin"
	[[ $output == *'"status":"failed"'* ]]
}

@test "security: redirects to file: and loops are refused; file: only from the command line" {
	start_fault A
	local P=http://127.0.0.1:$A_PORT
	run -1 --separate-stderr logfetch "$P/redirect?to=file:///etc/passwd"
	[ "$stderr" = "logfetch: $P/redirect?to=file:///etc/passwd: redirect refused (only http and https): file:///etc/passwd" ]
	[ -z "$(ls -A cache)" ]
	run -1 --separate-stderr logfetch --max-redirs 3 "$P/loop/0"
	[[ $stderr == *"too many redirects"* ]]
	[ "$(requests A.log /loop/)" -eq 4 ]
	echo hello > local.log
	run -0 --separate-stderr logfetch -o c2 "file://$T/local.log"
	cmp local.log c2/local.log
	run -1 --separate-stderr logfetch -o c3 <<< "file://$T/local.log"
	[[ $stderr == *"scheme 'file' not allowed (file: only on the command line)"* ]]
	run -1 --separate-stderr logfetch "ftp://127.0.0.1/x"
	[[ $stderr == *"scheme 'ftp' not allowed"* ]]
}

@test "security: credentials (header file, --user, netrc) reach only the origin they were given for" {
	start_fault A
	start_fault B
	local P=http://127.0.0.1:$A_PORT Q=http://127.0.0.1:$B_PORT
	printf '# secrets\nAuthorization: Bearer s3cret-token\nX-Api-Key: k3y\n' > hdr
	printf 'hunter2\n' > pw
	printf 'machine 127.0.0.1 login nuser password npass\n' > netrc
	run -0 --separate-stderr logfetch -o c1 --header-file hdr "$P/redirect?to=$Q/file/a.bin"
	run -0 --separate-stderr logfetch -o c2 --user alice --password-file pw "$P/redirect?to=$Q/file/b.bin"
	run -0 --separate-stderr logfetch -o c3 --netrc-file netrc "$P/redirect?to=$Q/file/c.bin"
	LOGFETCH_PASSWORD=from-env run -0 --separate-stderr logfetch -o c6 --user bob "$P/redirect?to=$Q/file/f.bin"
	run -0 --separate-stderr logfetch -o c4 --header-file hdr "$P/redirect?to=http://localhost:$A_PORT/file/d.bin"
	# Same origin: the credentials follow.
	run -0 --separate-stderr logfetch -o c5 --header-file hdr "$P/redirect?to=/file/e.bin"
	cmp payload c1/redirect	# named after the URL given, not where it led
	grep -q 's3cret-token' A.log
	grep -q 'Basic YWxpY2U6aHVudGVyMg==' A.log
	grep -q 'Basic bnVzZXI6bnBhc3M=' A.log
	grep -q "Basic $(printf bob:from-env | base64)" A.log
	grep -q '/file/a.bin' B.log
	run ! grep -qi 'authorization\|x-api-key' B.log
	# (the /redirect request itself carries them: look at the hop's own line)
	grep -q '"path": "/file/d.bin"' A.log
	run ! bash -c "grep '\"path\": \"/file/d.bin\"' A.log | grep -qi 'authorization\\|x-api-key'"
	grep '"path": "/file/e.bin"' A.log | grep -q 's3cret-token'
	# Secrets never need argv: no password-file without --user, bad header files are named.
	printf 'no colon here\n' > badhdr
	run -2 --separate-stderr logfetch --header-file badhdr "$P/file/x"
	[ "$stderr" = "logfetch: badhdr:1: expected 'Name: value'" ]
	: > empty
	run -2 --separate-stderr logfetch --user a --password-file empty "$P/file/x"
	[[ $stderr == *"empty secret"* ]]
}

@test "progress: json on stderr when asked, nothing otherwise" {
	start_fault A
	run -0 --separate-stderr logfetch --progress=json "http://127.0.0.1:$A_PORT/file/p.bin"
	[[ ${stderr} == '{"url":"http://127.0.0.1:'$A_PORT'/file/p.bin","bytes":'* ]]
	run -0 --separate-stderr logfetch -o c2 "http://127.0.0.1:$A_PORT/file/p.bin"
	[ -z "$stderr" ]
}

@test "usage, --help, --version, bad options" {
	run -2 --separate-stderr logfetch --nosuch
	[[ $stderr == *"usage: logfetch"* ]]
	run -0 logfetch --help
	[[ $output == "usage: logfetch"* ]]
	run -0 logfetch --version
	[[ $output == "logfetch "* ]]
	run -2 --separate-stderr logfetch --sha256 abc http://a/x
	[[ $stderr == *"not a SHA-256 digest"* ]]
	run -2 --separate-stderr logfetch --sha256 "$(printf '%064d' 0)" http://a/x http://a/y
	run -2 --separate-stderr logfetch -j 0 http://a/x
	run -2 --separate-stderr logfetch --run-id ../x http://a/x
	run -1 --separate-stderr logfetch 'http://[::1'
	[[ $stderr == *"malformed URL"* ]]
}

@test "output errors: closed stdout and a full disk are status 2, a reader gone is quiet" {
	start_nginx
	echo x > www/a.log && echo y > www/b.log
	run -2 --separate-stderr bash -c 'logfetch "$1/a.log" >&-' _ "$N"
	[[ $stderr == *"logfetch: stdout is closed"* ]]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logfetch -o c2 "$1/a.log" > /dev/full' _ "$N"
	[[ $stderr == *"write error: No space left on device"* ]]
	run -0 --separate-stderr bash -c 'logfetch -o c3 "$1/a.log" "$1/b.log" | head -1 > /dev/null' _ "$N"
	[ -z "$stderr" ]
}

@test "-j: at most N downloads at once, and they do run at once" {
	start_fault A
	local P=http://127.0.0.1:$A_PORT
	run -0 --separate-stderr logfetch -j 3 -o c1 "$P/slow/s1.bin" "$P/slow/s2.bin" "$P/slow/s3.bin" \
		"$P/slow/s4.bin" "$P/slow/s5.bin" "$P/slow/s6.bin"
	[ "${#lines[@]}" -eq 6 ]
	# inflight: how many /slow/ requests the server was holding when this one came
	inflight() { python3 -c 'import json,sys; print(max(json.loads(l)["inflight"] for l in open("A.log") if sys.argv[1] in l))' "$1"; }
	[ "$(inflight /slow/s)" -eq 3 ]
	run -0 --separate-stderr logfetch -j 1 -o c2 "$P/slow/t1.bin" "$P/slow/t2.bin" "$P/slow/t3.bin"
	[ "$(inflight /slow/t)" -eq 1 ]
	for i in 1 2 3 4 5 6; do cmp payload "c1/s$i.bin"; done
}

@test "TLS: peers are verified; --cacert adds the CA that signed the server" {
	start_nginx_tls
	head -c 100000 /dev/urandom > www/a.bin
	run -1 --separate-stderr logfetch "$S/a.bin"
	[[ $stderr == "logfetch: $S/a.bin: SSL certificate problem: "* ]]
	[[ $stderr != *"(after"* ]]	# not a transient failure: no retries
	[ ! -e cache/a.bin ]
	[ ! -e cache/a.bin.part ]
	run -0 --separate-stderr logfetch --cacert ca.pem "$S/a.bin"
	[[ $output == *'"status":"downloaded"'* ]]
	cmp www/a.bin cache/a.bin
	# Another CA does not vouch for this server.
	openssl req -x509 -newkey rsa:2048 -nodes -keyout o.key -out other.pem -days 2 -subj /CN=other 2>/dev/null
	run -1 --separate-stderr logfetch -o c2 --cacert other.pem "$S/a.bin"
	[[ $stderr == *"SSL certificate problem"* ]]
}

@test "stdin: records with url and sha256, bad lines named by number, binary input stops, a huge line" {
	start_nginx
	head -c 1000 /dev/urandom > www/a.log
	head -c 2000 /dev/urandom > www/b.log
	local sa
	sa=$(sha256sum < www/a.log | cut -c1-64)
	{
		echo '{"url":"'$N'/a.log","sha256":"'$sa'","other":1}'
		echo '{"url":"'$N'/b.log","sha256":"'$(printf '%064d' 2)'"}'
		echo '{"url": '
		echo "$N/c.log x y"
		echo "not-a-url"
	} > in
	run -1 --separate-stderr logfetch < in
	[ "${#lines[@]}" -eq 5 ]
	[[ $output == *'{"url":"'$N'/a.log","path":"cache/a.log","bytes":1000,"status":"downloaded","sha256":"'$sa'"'* ]]
	[[ $output == *'"url":"'$N'/b.log"'*'"status":"failed"'*'"error":"sha256 mismatch: expected 0000'* ]]
	[[ $output == *'{"url":null,"path":null,"bytes":0,"status":"failed","sha256":null,"http_status":null,"seconds":0,"error":"truncated JSON"}'* ]]
	[ ! -e cache/b.log ]
	[ ! -e cache/b.log.part ]
	[[ $stderr == *"logfetch: <stdin>:3: truncated JSON"* ]]
	[[ $stderr == *"logfetch: <stdin>:4: $N/c.log: expected 'URL [SHA256]'"* ]]
	[[ $stderr == *"logfetch: <stdin>:5: not-a-url: malformed URL"* ]]
	[[ $stderr == *"logfetch: $N/b.log: sha256 mismatch: expected 0000"* ]]
	# Binary data (an archive piped by mistake): one message, what came before is still done.
	{ echo "$N/a.log"; head -c 5000 /dev/urandom; printf '\0\n'; } > bin.in
	run -1 --separate-stderr logfetch -o c2 < bin.in
	[[ $output == *'"status":"downloaded"'* ]]
	[[ $stderr == *"binary data, not URLs or records; stopped reading"* ]]
	[ "$(grep -c 'binary data' <<< "$stderr")" -eq 1 ]
	# A 10 MB line: the record keeps it, the message is cut.
	python3 -c 'print("'$N'/" + "a" * 10000000)' > huge.in
	run -1 --separate-stderr logfetch -o c3 < huge.in
	[ "${#output}" -gt 10000000 ]
	[ "${#stderr}" -lt 500 ]
	[[ $stderr == "logfetch: <stdin>:1: $N/aaaa"*"...: malformed URL" ]]
}

@test "a cached file that fails --sha256 is removed, like a download that does" {
	start_nginx
	head -c 1000 /dev/urandom > www/a.log
	run -0 --separate-stderr logfetch "$N/a.log"
	run -1 --separate-stderr logfetch --sha256 "$(printf '%064d' 1)" "$N/a.log"
	[[ $output == *'"status":"failed"'*'"http_status":304'*'"error":"sha256 mismatch: expected 0000'* ]]
	[ ! -e cache/a.log ]
	[ ! -e cache/.a.log.meta ]
	run -0 --separate-stderr logfetch --sha256 "$(sha256sum < www/a.log | cut -c1-64)" "$N/a.log"
	[[ $output == *'"status":"downloaded"'*'"http_status":200'* ]]
}

@test "pipeline: logfetch | logunpack --lines and logfetch | logunpack, from nginx" {
	start_nginx
	mkdir -p src/run
	printf '{"level":"error","msg":"disk full"}\nnot json {\n' > src/run/app.log
	printf 'boot\nready\n' > src/run/service.log
	tar -C src -cf - run/app.log run/service.log | zstd -q -o www/R.tar.zst
	run -0 --separate-stderr bash -c 'set -o pipefail; logfetch --run-id R "$1/R.tar.zst" | logunpack --lines' _ "$N"
	printf '%s\n' "$output" > actual
	cat > expected <<'X'
{"level":"error","msg":"disk full","_file":"run/app.log","_line":1}
{"_msg":"not json {","_file":"run/app.log","_line":2}
{"_msg":"boot","_file":"run/service.log","_line":1}
{"_msg":"ready","_file":"run/service.log","_line":2}
X
	expect_same expected actual
	[ -z "$stderr" ]
	# The second time the archive is cached; the records still lead to it.
	run -0 --separate-stderr bash -c 'set -o pipefail; logfetch --run-id R "$1/R.tar.zst" | logunpack' _ "$N"
	[[ $output == *'{"archive":"cache/R/R.tar.zst","path":"cache/R/R/run/app.log","bytes":'* ]]
	diff -r src/run cache/R/R/run
	[ "$(grep -c '"GET /R.tar.zst HTTP/1.1" 304' ngx/access.log)" -eq 1 ]
}

@test "a full disk: the .part is named and kept for a later resume, the final name never holds it" {
	start_nginx
	head -c 3000000 /dev/urandom > www/big.bin
	small_fs "$T/small"
	run -1 --separate-stderr logfetch -o small "$N/big.bin"
	[ "$stderr" = "logfetch: $N/big.bin: small/big.bin.part: No space left on device" ]
	[[ $output == *'"status":"failed"'* ]]
	[ ! -e small/big.bin ]
	[ -s small/big.bin.part ]
	# Room again: the same .part resumes.
	cp -a small c2
	run -0 --separate-stderr logfetch -o c2 "$N/big.bin"
	[[ $output == *'"status":"resumed"'*'"http_status":206'* ]]
	cmp www/big.bin c2/big.bin
}

@test "progress: a row per running download on a terminal, control characters neutralised" {
	start_nginx
	mkdir -p www/slow
	head -c 1500000 /dev/urandom > www/slow/one.bin
	head -c 1500000 /dev/urandom > "www/slow/$(printf 'x\033]0;owned\007')two.bin"
	run -0 script -qec "logfetch -o c '$N/slow/one.bin' '$N/slow/x%1b%5d0%3bowned%07two.bin' > out.jsonl" /dev/null
	printf '%s' "$output" > tty
	[ "$(wc -l < out.jsonl)" -eq 2 ]
	grep -aq 'one\.bin  *[0-9.]* [KM]iB / 1\.4 MiB  *[0-9]*%  *[0-9.]* [KM]*i*B/s ETA 0:0' tty
	grep -aq 'x?\]0;owned?two\.bin ' tty
	run ! grep -aq $'\033]0;owned' tty
	# Two rows at once: the redraw moves the cursor up one row.
	grep -aq $'\033\\[1A' tty
}

@test "two runs on one cache: the second waits for the first, then finds the file cached" {
	start_nginx
	mkdir -p www/slow
	head -c 1500000 /dev/urandom > www/slow/c.bin
	logfetch "$N/slow/c.bin" > first.out 2> first.err &
	local pid=$! i
	for i in $(seq 100); do [ -e cache/.c.bin.lock ] && break; sleep 0.05; done
	[ -e cache/.c.bin.lock ]
	run -0 --separate-stderr logfetch "$N/slow/c.bin"
	wait "$pid"
	[[ $output == *'"status":"cached"'*'"http_status":304'* ]]
	[ "$stderr" = "logfetch: $N/slow/c.bin: waiting for another logfetch on cache/c.bin" ]
	grep -q '"status":"downloaded"' first.out
	[ ! -s first.err ]
	cmp www/slow/c.bin cache/c.bin
	[ "$(ls -A cache)" = "$(printf '.c.bin.meta\nc.bin')" ]
	[ "$(grep -c '"GET /slow/c.bin HTTP/1.1" 200' ngx/access.log)" -eq 1 ]
}
