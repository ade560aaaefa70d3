# wsi - web store orders into Sage 300. See README and wsi(7).
.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS     = libcurl jansson sqlite3

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS))
# `make clean` needs none of the -dev packages
GOALS := $(filter-out clean,$(or $(MAKECMDGOALS),all))
ifneq ($(GOALS),)
ifeq ($(PKG_LIBS),)
$(error pkg-config cannot find $(PKGS): install libcurl4-openssl-dev libjansson-dev libsqlite3-dev pkg-config)
endif
endif

CFLAGS ?= -O2 -g
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# Warnings are not optional here; a packager whose newer compiler warns may build with WERROR=
WERROR ?= -Werror
override CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
	-Wformat=2 -Wno-format-nonliteral $(SANFLAGS) -Ilib $(PKG_CFLAGS) $(CFLAGS)
override LDFLAGS := $(SANFLAGS) $(LDFLAGS)
LDLIBS += $(PKG_LIBS) -pthread

# Sanitizer builds live apart, so `make check SAN=1` needs no `make clean`.
ifeq ($(SAN),1)
O = build-san
else
O = build
endif

TOOLS   = fetch stage hwm remap validate post sync
BINS    = $(TOOLS:%=$(O)/bin/wsi-%)
LIBSRC  = $(wildcard lib/*.c)
LIBOBJ  = $(LIBSRC:lib/%.c=$(O)/lib/%.o)
LIBHDR  = $(wildcard lib/*.h)
MANS    = $(wildcard man/*.1 man/*.7)

all: $(BINS) $(O)/bin/unit $(O)/bin/enospc.so
	@mkdir -p bin && for b in $(BINS); do ln -sf ../$$b bin/; done

$(O)/lib/%.o: lib/%.c $(LIBHDR)
	@mkdir -p $(O)/lib
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libwsi.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

# A tool is every .c file in its folder, linked with the library.
.SECONDEXPANSION:
$(O)/bin/wsi-%: $$(wildcard $$*/*.c) $$(wildcard $$*/*.h) $(O)/libwsi.a $(LIBHDR)
	@mkdir -p $(O)/bin
	$(CC) $(CFLAGS) -I$* $(LDFLAGS) -o $@ $(filter %.c,$^) $(O)/libwsi.a $(LDLIBS)

$(O)/bin/unit: tests/unit.c $(O)/libwsi.a $(LIBHDR)
	@mkdir -p $(O)/bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libwsi.a $(LDLIBS)

# The full-disk shim is built without sanitizers: it is preloaded into other programs.
$(O)/bin/enospc.so: tests/enospc.c
	@mkdir -p $(O)/bin
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $< -ldl

# TAP tests through prove; each test makes its own directory and simulators.
check: all
	@if command -v mandoc >/dev/null 2>&1; then mandoc -Tlint -Wwarning $(MANS); fi
	WSI_BIN=$(CURDIR)/$(O)/bin WSI_VALGRIND=$(VALGRIND) prove -f $(PROVE_FLAGS) tests/*.t </dev/null

# The randomized fault run: SEEDS runs of ROUNDS rounds in each prepayment mode (default
# 10 x 100 = 1,000 rounds a mode; the simulators keep every order, so many short runs go
# faster than one long one). SEED=n replays one run.
ROUNDS ?= 100
SEEDS ?= 10
faults: all
	@seeds="$(if $(SEED),$(SEED),$$(seq 101 $$((100 + $(SEEDS)))))"; fail=0; \
	for mode in receipt order; do for s in $$seeds; do \
		WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/faults.py --rounds $(ROUNDS) --seed $$s --prepayment $$mode || fail=1; \
	done; done; exit $$fail

# libFuzzer (clang): each target runs FUZZ_SECONDS from the seed corpus in tests/fuzz/corpus;
# a crash stops the run and leaves its input in build-fuzz/. Every crash found becomes a test.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = order file config scalars sage json
FUZZ_CC ?= clang
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Ilib $(PKG_CFLAGS)
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBSRC) $(LIBHDR)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIBSRC) $(PKG_LIBS) -pthread
fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t && cp -n tests/fuzz/corpus/$$t/* build-fuzz/corpus-$$t/ 2>/dev/null; \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		(cd build-fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -max_len=65536 \
			corpus-$$t ../tests/fuzz/corpus/$$t >fuzz_$$t.log 2>&1; \
		 grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Test unit written' fuzz_$$t.log) ; \
	done; \
	if ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* >/dev/null 2>&1; then \
		echo "fuzz: crashes in build-fuzz/ (make each a test, then delete it)"; exit 1; fi

demo: all
	WSI_BIN=$(CURDIR)/$(O)/bin ./demo/demo.sh

bench: all
	WSI_BIN=$(CURDIR)/$(O)/bin python3 bench/stage.py $(BENCH_ORDERS)
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/bench.py $(BENCH_ORDERS)
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/bench_sage.py

bench-memory: all
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/bench_memory.py $(BENCH_ORDERS)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for b in $(BINS); do install -m 755 $$b $(DESTDIR)$(BINDIR)/; done
	for m in man/*.1; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in man/*.7; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/; done

clean:
	rm -rf bin build build-san build-fuzz tests/tmp.*

.PHONY: all check demo bench bench-memory faults fuzz install clean
