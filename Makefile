# logkit: one flat Makefile.  Tools are found as cmd/<tool>/, tests as
# tests/*.bats, tests/unit/*.c and tests/fuzz/*.c, so adding one needs no
# edit here.
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man
DESTDIR =

CC = cc
# Object and binary directory; `make asan` uses its own.
B = build
BIN = bin
SANITIZE =

PKGS = libzstd libarchive json-c libcurl libpcre2-8 libxxhash zlib
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wformat=2 -Wwrite-strings -Werror
OPT = -O2 -g
SANFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# Recursive (=) so pkg-config runs only once the packages are installed.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
LDLIBS = $(PKG_LIBS) -lpthread -lm
# Tools that do HTTP only on request: they link common/curl_lazy.o, which
# dlopens libcurl at its first use, instead of -lcurl and its ~30 libraries.
CURL_LAZY = logalert logq
LAZY_LDLIBS = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS))) -ldl -lpthread -lm

TOOLS = $(patsubst cmd/%/,%,$(sort $(wildcard cmd/*/)))
COMMON_SRC = $(filter-out common/curl_lazy.c,$(sort $(wildcard common/*.c)))
COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/%.o)
TOOLLIB_OBJ = $(B)/cmd/tool.o
UNIT_SRC = $(sort $(wildcard tests/unit/*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
FUZZ_SRC = $(filter-out tests/fuzz/replay.c,$(sort $(wildcard tests/fuzz/*.c)))
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%-replay)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%-fuzz)
MAN = $(sort $(wildcard man/*.[1-8]))

all: $(TOOLS:%=$(BIN)/%) $(B)/loggen

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJ)
	rm -f $@
	ar rcs $@ $(COMMON_OBJ)

define tool_rule
$(BIN)/$(1): $(patsubst %.c,$(B)/%.o,$(sort $(wildcard cmd/$(1)/*.c))) $(TOOLLIB_OBJ) \
		$(if $(filter $(1),$(CURL_LAZY)),$(B)/common/curl_lazy.o) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(if $(filter $(1),$(CURL_LAZY)),$(LAZY_LDLIBS),$(LDLIBS))
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(B)/unit/%: tests/unit/%.c tests/unit/t.h $(B)/libcommon.a $(TOOLLIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TOOLLIB_OBJ) $(B)/libcommon.a $(LDLIBS)

# Fuzz targets: replayed over their corpus in `make check`, fuzzed by
# `make fuzz` (clang's libFuzzer).
$(B)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/replay.c $(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay.c $(B)/libcommon.a $(LDLIBS)

FUZZ_CC = clang
FUZZ_TIME = 60
$(B)/fuzz/%-fuzz: tests/fuzz/%.c $(COMMON_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) \
		$(PKG_CFLAGS) -o $@ $< $(COMMON_SRC) $(PKG_LIBS) -lpthread -lm

# The test-data generator (not a tool: tests, benchmarks and the demo use it).
$(B)/loggen: scripts/loggen.c $(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libcommon.a $(LDLIBS)

deps:
	scripts/deps.sh build

unit: $(UNIT_BIN)
fuzz-replay: $(FUZZ_REPLAY)

# The README's test command: install what is missing, build, run it all.
check:
	scripts/deps.sh build test
	$(MAKE) all unit fuzz-replay
	BIN=$(BIN) B=$(B) tests/run

asan:
	$(MAKE) check B=build/asan BIN=build/asan/bin SANITIZE=address,undefined OPT="-O1 -g"

fuzz: $(FUZZ_BIN)
	scripts/deps.sh fuzz
	for f in $(FUZZ_BIN); do \
		n=$$(basename $$f -fuzz); mkdir -p $(B)/fuzz/corpus-$$n; \
		$$f -max_total_time=$(FUZZ_TIME) $(B)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; \
	done

bench:
	scripts/deps.sh build bench
	$(MAKE) all
	BIN=$(BIN) scripts/bench

demo:
	scripts/deps.sh build
	$(MAKE) all
	BIN=$(BIN) scripts/demo

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin
	for t in $(TOOLS); do cp -f $(BIN)/$$t $(DESTDIR)$(PREFIX)/bin/ && \
		chmod 755 $(DESTDIR)$(PREFIX)/bin/$$t; done
	for m in $(MAN); do s=$${m##*.}; mkdir -p $(DESTDIR)$(MANPREFIX)/man$$s && \
		cp -f $$m $(DESTDIR)$(MANPREFIX)/man$$s/ && \
		chmod 644 $(DESTDIR)$(MANPREFIX)/man$$s/$${m##*/}; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t; done
	for m in $(MAN); do s=$${m##*.}; rm -f $(DESTDIR)$(MANPREFIX)/man$$s/$${m##*/}; done

clean:
	rm -rf build bin

.PHONY: all deps unit fuzz-replay check asan fuzz bench demo install uninstall clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
