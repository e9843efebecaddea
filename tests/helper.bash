# helper.bash: shared set-up for the bats files (load with `load helper`).
# Every test gets its own scratch directory $T and runs with the freshly
# built tools on PATH (tests/run puts them there).

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/logkit.XXXXXX")
	cd "$T" || return 1
	TOP=${LOGKIT_TOP:?run the tests through tests/run or make check}
	FIX=$TOP/tests/fixtures
	if declare -F local_setup >/dev/null; then local_setup; fi
}

teardown() {
	if declare -F local_teardown >/dev/null; then local_teardown; fi
	cd / && rm -rf "$T"
}

# The shared Loghub corpus, when the checkout sits beside ../shared: sets
# CORPUS, or skips the test.  (Not for $(...): a skip in a subshell would
# fail the test instead.)
need_corpus() {
	CORPUS=$TOP/../shared/corpus/loghub
	[ -d "$CORPUS" ] || skip "no ../shared/corpus (fresh clone)"
}

# expect_same EXPECTED ACTUAL: compare files, showing a diff on mismatch.
expect_same() {
	if ! cmp -s "$1" "$2"; then
		diff -u "$1" "$2" | head -n 40
		return 1
	fi
}

# A filesystem with no space left: /dev/full as stdout.
has_dev_full() { [ -w /dev/full ]; }
