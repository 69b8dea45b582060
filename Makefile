# tutor: see README.md. `make run` and `make test` are the whole set-up: both install the
# Debian packages the project needs first (make deps) when pkg-config cannot find them.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT ?= -O1 -g
else
BUILD ?= build
SAN_FLAGS :=
OPT ?= -O2 -g
endif
B := $(BUILD)

# Debian packages (DESIGN.md) and the pkg-config names that tell whether they are present.
DEB_PKGS := build-essential pkg-config libncurses-dev libcunit1-dev gnuplot-nox \
            libopenblas-dev liblapacke-dev libfftw3-dev tmux python3-numpy
PC_PKGS  := ncursesw cunit openblas lapacke fftw3
HAVE_DEPS := $(shell pkg-config --exists $(PC_PKGS) 2>/dev/null && command -v tmux >/dev/null \
               && command -v gnuplot >/dev/null && echo yes)

.PHONY: all run test install uninstall clean deps format check-format help
# Keep objects that only test binaries need (make would delete them as intermediates).
.SECONDARY:

ifneq ($(HAVE_DEPS),yes)
# Something is missing: install it, then run the same goal again in a fresh make, whose
# pkg-config queries now succeed.
.DEFAULT_GOAL := all
all run test install tutor bench plots exercise:
ifeq ($(TUTOR_DEPS_TRIED),1)
	@echo "make: the packages are still not found by pkg-config after 'make deps'; see above" >&2
	@exit 1
else
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory TUTOR_DEPS_TRIED=1 $@
endif
else

# Flags. openblas's .pc adds -D_XOPEN_SOURCE=600 and -D_DEFAULT_SOURCE; we set our own
# feature macros once, here, and drop those so nothing is defined twice.
PC_CFLAGS := $(filter-out -D_XOPEN_SOURCE=% -D_DEFAULT_SOURCE,\
               $(shell pkg-config --cflags $(PC_PKGS)))
PC_LIBS   := $(shell pkg-config --libs $(PC_PKGS))
CPPFLAGS  += -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE $(PC_CFLAGS) \
             -DTUTOR_SRCDIR='"$(CURDIR)"' -DTUTOR_DATADIR='"$(PREFIX)/share/tutor"'
CFLAGS    ?=
CFLAGS    += -std=c11 -pthread -Wall -Wextra -Wpedantic $(OPT) $(SAN_FLAGS) -MMD -MP
LDFLAGS   += -pthread $(SAN_FLAGS)
LDLIBS    += $(PC_LIBS) -lm

# Sources, by layer. Each folder is one static library; tutor/main.c is the binary.
TRACE_SRC := $(sort $(wildcard trace/*.c))
ALGO_SRC  := $(sort $(wildcard algorithms/*.c))
MODEL_SRC := $(sort $(wildcard models/*.c))
PLOT_SRC  := $(sort $(wildcard plots/*.c))
APP_SRC   := $(filter-out tutor/main.c,$(sort $(wildcard tutor/*.c tutor/*/*.c)))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(sort $(wildcard tests/*.c)))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIBS := $(B)/libtutor.a $(B)/libplots.a $(B)/libmodels.a $(B)/libalgorithms.a $(B)/libtrace.a
TEST_BINS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

all: $(B)/tutor

tutor: $(B)/tutor

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libtrace.a: $(call obj,$(TRACE_SRC))
$(B)/libalgorithms.a: $(call obj,$(ALGO_SRC))
$(B)/libmodels.a: $(call obj,$(MODEL_SRC))
$(B)/libplots.a: $(call obj,$(PLOT_SRC))
$(B)/libtutor.a: $(call obj,$(APP_SRC))
$(B)/lib%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

# tutor/ bakes PREFIX (where installed notes live) and the source folder into the binary:
# the stamp changes only when they do, and then those objects are rebuilt, so
# `make install PREFIX=/usr` after a plain `make` never installs a binary looking elsewhere.
$(B)/paths.stamp: FORCE
	@mkdir -p $(B)
	@echo '$(PREFIX) $(CURDIR)' | cmp -s - $@ || echo '$(PREFIX) $(CURDIR)' > $@
$(call obj,$(APP_SRC)): $(B)/paths.stamp
.PHONY: FORCE
FORCE:

$(B)/tutor: $(call obj,tutor/main.c) $(LIBS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(B)/tests/%: $(call obj,tests/%.c) $(call obj,$(TEST_SUPPORT)) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# `make run`: the interactive tutor in a terminal; elsewhere tutor prints its usage and
# exits, so this never hangs without a terminal.
run: $(B)/tutor
	./$(B)/tutor

# `make test` runs every suite, `make test TOPIC=heap` one. Each suite prints CUnit's
# summary; tests/run.sh adds the total and fails when anything failed or crashed.
ifdef TOPIC
RUN_TESTS := $(B)/tests/test_$(TOPIC)
$(if $(filter exercise,$(MAKECMDGOALS))$(wildcard tests/test_$(TOPIC).c),,$(error no test suite for topic '$(TOPIC)' (tests/test_$(TOPIC).c)))
else
RUN_TESTS := $(TEST_BINS)
endif

test: $(B)/tutor $(RUN_TESTS)
	@TUTOR_BIN=$(CURDIR)/$(B)/tutor TUTOR_SRCDIR=$(CURDIR) sh tests/run.sh $(RUN_TESTS)

# `make plots`: every topic's figures into plots/out/ (ignored by git), as PNG or FORMAT=svg|pdf.
.PHONY: plots
plots: $(B)/tutor
	@mkdir -p plots/out
	@for t in $$(./$(B)/tutor list | cut -d' ' -f1); do \
	    ./$(B)/tutor plot "$$t" --out plots/out --format $(or $(FORMAT),png) || exit 1; done
	@if ls $(or $(BENCH_OUT),bench/out)/*.csv >/dev/null 2>&1; then \
	    ./$(B)/tutor plot bench --from $(or $(BENCH_OUT),bench/out) --out plots/out \
	        --format $(or $(FORMAT),png); \
	else echo "(no bench/out/*.csv: run 'make bench' for the benchmark figures)"; fi

install: $(B)/tutor
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tutor/docs
	install -m 755 $(B)/tutor $(DESTDIR)$(PREFIX)/bin/tutor
	for f in docs/*.md; do [ -e "$$f" ] || continue; \
	    install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/tutor/docs/; done
	if [ -f docs/tutor.1 ]; then install -d $(DESTDIR)$(PREFIX)/share/man/man1 && \
	    install -m 644 docs/tutor.1 $(DESTDIR)$(PREFIX)/share/man/man1/tutor.1; fi

# `make exercise TOPIC=ID` and the exercise binaries `make test` checks (docs/exercises.md).
include exercises/exercises.mk

# `make bench` runs every benchmark, `make bench BENCH=heap` one (bench/, docs/bench.md): built
# at -O2 in build-bench/, with the C++ peer compiled by g++; numpy peers need python3-numpy.
.PHONY: bench
BENCH_SRC := $(sort $(wildcard bench/*.c))
bench:
	@$(MAKE) --no-print-directory BUILD=build-bench SANITIZE=0 OPT=-O2 build-bench/bench/bench
	./build-bench/bench/bench $(BENCH)
	@echo "tables: $(or $(BENCH_OUT),bench/out)/*.csv; figures: make plots, or tutor plot bench"

$(B)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) -std=c++17 -Wall -Wextra -Wpedantic $(OPT) -MMD -MP -c $< -o $@

$(B)/bench/bench: $(call obj,$(BENCH_SRC)) $(B)/obj/bench/peer_pq.o $(B)/libmodels.a \
                  $(B)/libalgorithms.a $(B)/libtrace.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# `make fuzz FUZZ=NAME [FUZZ_TIME=60]`: runs the libFuzzer harness fuzz/fuzz_NAME.c for
# FUZZ_TIME seconds (fuzz/README.md). The libraries are rebuilt by clang with coverage and
# ASan + UBSan in $(B)/fuzz/, a folder of their own; new inputs go to $(B)/fuzz/corpus-NAME
# and crashes to $(B)/fuzz/, never into fuzz/corpus/ (the hand-written seeds). Not part of
# `make test`. fuzz/NAME.dict, when there is one, is passed as the libFuzzer dictionary;
# FUZZ_ARGS passes more libFuzzer options.
.PHONY: fuzz
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZ_SAN  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
fuzz:
	$(if $(wildcard fuzz/fuzz_$(FUZZ).c),,$(error make fuzz: FUZZ=NAME, one of: \
	    $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))))
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: needs $(FUZZ_CC) with its" \
	    "libFuzzer runtime (Debian: apt-get install clang)" >&2; exit 2; }
	@$(MAKE) --no-print-directory BUILD=$(B)/fuzz CC=$(FUZZ_CC) OPT="-O1 -g" \
	    SAN_FLAGS="$(FUZZ_SAN)" $(B)/fuzz/fuzz_$(FUZZ)
	@mkdir -p $(B)/fuzz/corpus-$(FUZZ)
	$(B)/fuzz/fuzz_$(FUZZ) -max_total_time=$(FUZZ_TIME) -timeout=10 \
	    -artifact_prefix=$(B)/fuzz/$(FUZZ)- $(if $(wildcard fuzz/$(FUZZ).dict),-dict=fuzz/$(FUZZ).dict) \
	    $(FUZZ_ARGS) \
	    $(B)/fuzz/corpus-$(FUZZ) fuzz/corpus/$(FUZZ)

$(B)/fuzz_%: $(call obj,fuzz/fuzz_%.c) $(call obj,fuzz/common.c) $(LIBS)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

endif # HAVE_DEPS

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tutor $(DESTDIR)$(PREFIX)/share/man/man1/tutor.1
	rm -rf $(DESTDIR)$(PREFIX)/share/tutor

# Installs the Debian packages that are missing: as root directly, else through sudo.
deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" \
	        || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "make deps: every package is installed"; exit 0; fi; \
	echo "make deps: installing$$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "make deps: need root or sudo to install:$$missing" >&2; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "make deps: apt-get not found; install these by hand:$$missing" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y --no-install-recommends $$missing \
	  || { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends $$missing; } \
	  || { echo "make deps: apt-get could not install:$$missing" >&2; exit 1; }

# The targets, as README.md's table lists them (one place to keep them in).
help:
	@sed -n 's/^| `\(make [^`]*\)` | \(.*\) |$$/\1\t\2/p' README.md | \
	    sed 's/`//g; s/\[\([^]]*\)\]([^)]*)/\1/g' | expand -t 28

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-*
