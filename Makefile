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
ifeq ($(PKG_LIBS),)
$(error pkg-config cannot find $(PKGS): install libcurl4-openssl-dev libjansson-dev libsqlite3-dev pkg-config)
endif

CFLAGS ?= -O2 -g
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# Warnings are not optional.
override CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
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

# The randomized fault run: ROUNDS rounds (default 1000), SEED to replay one.
ROUNDS ?= 1000
faults: all
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/faults.py --rounds $(ROUNDS) $(if $(SEED),--seed $(SEED)) --prepayment receipt
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/faults.py --rounds $(ROUNDS) $(if $(SEED),--seed $(SEED)) --prepayment order

demo: all
	WSI_BIN=$(CURDIR)/$(O)/bin ./demo/demo.sh

bench: all
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/bench.py $(BENCH_ORDERS)
	WSI_BIN=$(CURDIR)/$(O)/bin python3 tests/bench_sage.py

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for b in $(BINS); do install -m 755 $$b $(DESTDIR)$(BINDIR)/; done
	for m in man/*.1; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in man/*.7; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/; done

clean:
	rm -rf bin build build-san tests/tmp.*

.PHONY: all check demo bench faults fuzz install clean
