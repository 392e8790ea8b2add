# mosquitto-bootstrap: one entry point.
#   make            the plugin (plugin/mosquitto_bootstrap.so) on lib/libbootstrap.a,
#                   and the tools (build/default/tools/)
#   make run        a broker in the foreground with config-examples/mosquitto.conf,
#                   the web console on http://127.0.0.1:9001/
#   make console    the web console (console/) into build/console/, with npm
#   make test       every test: unit (CUnit), symbol check, integration (real broker)
#   make test-san   the unit tests under AddressSanitizer + UBSan
#   make test-tsan  the worker thread and the broker-thread wake under ThreadSanitizer
#   make bench      the load benchmark (N = 1,000 and 1,000,000), the PostgreSQL
#                   column (bench-pg) and the fleet import
#   make bench-pg   bootstraps on PostgreSQL beside SQLite, same configs, one run
#   make bench-core the core alone, without a broker (bootstraps per second)
#   make bench-copy a fleet of 100,000 configs moved into PostgreSQL and back
#                   (mosquitto_bootstrap_copy), each way timed
#   make bench-wake a worker's answer, published at once by the broker thread
#                   woken by a signal, against one that waits for the tick
#   make soak       1,000 connections bootstrapping for SOAK_SECONDS=300 with
#                   bad keys and payloads mixed in, memory watched; then bombs
#   make fuzz       every libFuzzer target (clang) for FUZZ_SECONDS=60 each
#   make install    PREFIX=/usr/local DESTDIR= honoured
#   make console-screenshots  the browser test, its screenshots into docs/

PREFIX ?= /usr/local
DESTDIR ?=
# Where Debian's mosquitto keeps its own plugins (dpkg -L mosquitto):
# /usr/lib/<multiarch>/ with PREFIX=/usr.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
PLUGINDIR ?= $(PREFIX)/lib/$(MULTIARCH)
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CONSOLEDIR ?= $(PREFIX)/share/mosquitto-bootstrap/console
DOCDIR ?= $(PREFIX)/share/doc/mosquitto-bootstrap
# The conf.d snippet: /etc/mosquitto/conf.d with PREFIX=/usr.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
# The broker's state directory, made by Debian's mosquitto package.
STATEDIR ?= /var/lib/mosquitto

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := jansson sqlite3 libcrypto libpq
DEB_PACKAGES := build-essential pkg-config mosquitto mosquitto-clients man-db \
	mosquitto-dev libmosquitto-dev libjansson-dev libsqlite3-dev libssl-dev \
	libcunit1-dev openssl chromium postgresql libpq-dev

# On a fresh machine the targets that install packages first (make deps)
# do so before the packages' flags below are read.
WITH_DEPS := run test test-valgrind test-deb bench bench-quick bench-import soak
ifneq ($(filter $(WITH_DEPS),$(MAKECMDGOALS)),)
ifneq ($(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo ok),ok)
$(shell $(MAKE) --no-print-directory deps >&2)
endif
endif

SAN ?=
ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LIBA := $(BUILD)/libbootstrap.a
PLUGIN := $(BUILD)/mosquitto_bootstrap.so
else
BUILD := build/default
SANFLAGS :=
LIBA := lib/libbootstrap.a
PLUGIN := plugin/mosquitto_bootstrap.so
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) \
	-fPIC -fvisibility=hidden $(SANFLAGS) $(CFLAGS) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_LIBS := $(LIBS) -lcunit
INT_LIBS := $(TEST_LIBS) -lmosquitto

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/schema_sql.o $(BUILD)/schema_pg_sql.o
PLUGIN_SRC := $(sort $(wildcard plugin/*.c))
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(BUILD)/%.o)
SCHEMA := $(sort $(wildcard schema/*.sql))
# The PostgreSQL backend's migrations (lib/store_pg.c).
PG_SCHEMA := $(sort $(wildcard schema/pg/*.sql))

UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/unit/%)
INT_SRC := $(sort $(wildcard test/integration/test_*.c))
INT_BIN := $(INT_SRC:test/integration/%.c=$(BUILD)/test/integration/%)
TEST_COMMON := $(BUILD)/test/common/cu_main.o $(BUILD)/test/common/tmpdir.o \
	$(BUILD)/test/common/core_open.o $(BUILD)/test/common/sealed.o \
	$(BUILD)/test/common/pki.o $(BUILD)/test/common/store_db.o \
	$(BUILD)/test/common/pg_server.o $(BUILD)/test/common/pg_delay.o
INT_COMMON := $(BUILD)/test/integration/harness.o $(BUILD)/test/integration/leakscan.o \
	$(BUILD)/test/integration/tool_run.o
ADMIN_ENV := $(BUILD)/test/common/admin_env.o

# The two MQTT tools are clients on libmosquitto, libcrypto and Jansson, not
# linked with lib/ (the admin tool takes its JSON reader alone): the device
# client is an example to be read on its own.
TOOL_LIBS := $(shell $(PKG_CONFIG) --libs jansson libcrypto 2>/dev/null) -lmosquitto
DEVICE_SRC := $(sort $(wildcard tools/device*.c))
DEVICE_OBJ := $(DEVICE_SRC:%.c=$(BUILD)/%.o)
DEVICE := $(BUILD)/tools/mosquitto_bootstrap_device
# The broker connection both tools open.
LINK_OBJ := $(BUILD)/tools/link.o
CTRL_SRC := $(sort $(wildcard tools/ctrl*.c))
# The admin tool reads the plugin's answers with the plugin's JSON reader
# (lib/jsonr.c, on Jansson alone): json_loadb took most of an import's time.
CTRL_OBJ := $(CTRL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/lib/jsonr.o
CTRL := $(BUILD)/tools/mosquitto_bootstrap_ctrl
# The copy tool moves a fleet between stores (SQLite, PostgreSQL): it is
# built on lib/libbootstrap.a, whose backends it drives, not on MQTT.
COPY_SRC := $(sort $(wildcard tools/copy*.c))
COPY_OBJ := $(COPY_SRC:%.c=$(BUILD)/%.o)
COPY := $(BUILD)/tools/mosquitto_bootstrap_copy
TOOLS := $(DEVICE) $(CTRL) $(COPY)

.PHONY: all deps console console-screenshots run test test-unit test-integration test-symbols test-san \
	test-integration-san test-valgrind \
	bench bench-import bench-issue bench-fleet bench-core bench-tools soak fuzz fuzz-build install uninstall clean
.DELETE_ON_ERROR:
.SECONDARY: $(TEST_COMMON) $(INT_COMMON) $(ADMIN_ENV)

all: $(PLUGIN) $(TOOLS)

# Installs missing Debian packages; does nothing when all are there.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
		done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@# Debian's nodejs and npm, unless a node with its npm is there already
	@# (a node from elsewhere conflicts with Debian's npm package).
	@if ! command -v npm >/dev/null; then \
		echo "installing: nodejs npm"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Ilib -Itest/common -MMD -MP -c $< -o $@

$(BUILD)/schema_sql.c: $(SCHEMA) schema/embed.sh
	@mkdir -p $(dir $@)
	sh schema/embed.sh $(SCHEMA) > $@

$(BUILD)/schema_sql.o: $(BUILD)/schema_sql.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Ilib -c $< -o $@

$(BUILD)/schema_pg_sql.c: $(PG_SCHEMA) schema/embed.sh
	@mkdir -p $(dir $@)
	sh schema/embed.sh -n bs_pg_schema $(PG_SCHEMA) > $@

$(BUILD)/schema_pg_sql.o: $(BUILD)/schema_pg_sql.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Ilib -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(PLUGIN): $(PLUGIN_OBJ) $(LIBA) plugin/exports.map
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,--version-script=plugin/exports.map \
		-Wl,-z,relro,-z,now -o $@ $(PLUGIN_OBJ) $(LIBA) $(LIBS)

$(BUILD)/test/unit/%: test/unit/%.c $(TEST_COMMON) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(TEST_LIBS)

# The admin and session tests share one fixture.
$(BUILD)/test/unit/test_admin $(BUILD)/test/unit/test_admin_edit \
	$(BUILD)/test/unit/test_sessions $(BUILD)/test/unit/test_devlog \
	$(BUILD)/test/unit/test_stats $(BUILD)/test/unit/test_reload \
	$(BUILD)/test/unit/test_issue $(BUILD)/test/unit/test_fleet \
	$(BUILD)/test/unit/test_unknown: $(ADMIN_ENV)

$(BUILD)/test/integration/%: test/integration/%.c $(INT_COMMON) $(TEST_COMMON) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -Itest/integration -o $@ $< \
		$(INT_COMMON) $(TEST_COMMON) $(LIBA) $(INT_LIBS)

$(DEVICE): $(DEVICE_OBJ) $(LINK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(DEVICE_OBJ) $(LINK_OBJ) $(TOOL_LIBS)

$(CTRL): $(CTRL_OBJ) $(LINK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CTRL_OBJ) $(LINK_OBJ) $(TOOL_LIBS)

$(COPY): $(COPY_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(COPY_OBJ) $(LIBA) $(LIBS)

# The web console: static files for a broker's http_dir, built with
# esbuild from console/src and MQTT.js, as pinned in console/package-lock.json
# (npm ci: exactly those versions, their integrity checked). CONSOLE_BUILT
# names a console built before (the Debian package's build has no network):
# then nothing is built and that one is installed.
CONSOLE_SRC := $(sort $(wildcard console/src/*.* console/src/*/*.*)) console/build.mjs \
	console/package.json console/package-lock.json
CONSOLE_OUT := build/console
CONSOLE_BUILT ?=
CONSOLE_FILES := index.html console.js console.css THIRD-PARTY.txt

console/node_modules/.package-lock.json: console/package-lock.json console/package.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CONSOLE_OUT)/index.html: $(CONSOLE_SRC) console/node_modules/.package-lock.json
	node console/build.mjs $(CONSOLE_OUT)

console: $(CONSOLE_OUT)/index.html

# The browser test (test/console/browser.mjs), its screenshots into docs/.
console-screenshots: $(PLUGIN) console
	SHOTS_DIR=docs node test/console/browser.mjs

# The wake of the broker thread is the plugin's (plugin/wake.c), tested
# against a loop that sleeps as Mosquitto's does.
$(BUILD)/test/unit/test_wake: $(BUILD)/plugin/wake.o
$(BUILD)/test/unit/test_wake: ALL_CFLAGS += -Iplugin

# These tests run the tools that make built.
$(BUILD)/test/integration/test_device_client $(BUILD)/test/integration/test_examples \
	$(BUILD)/test/integration/test_device_csr $(BUILD)/test/integration/test_cert_issue: $(DEVICE)
$(BUILD)/test/integration/test_ctrl $(BUILD)/test/integration/test_ctrl_fleet \
	$(BUILD)/test/integration/test_cert_issue: $(CTRL)
$(BUILD)/test/integration/test_move: $(COPY)

run: deps $(PLUGIN) $(TOOLS) console
	@sh config-examples/prepare.sh
	@echo "web console: http://127.0.0.1:9001/ (user admin, password admin-password)"
	mosquitto -c config-examples/mosquitto.conf

test: deps
	@$(MAKE) --no-print-directory $(PLUGIN) $(TOOLS) $(UNIT_BIN) $(INT_BIN) bench-tools console
	@sh test/run.sh $(UNIT_BIN) $(PG_UNIT) test/check_exports.sh test/check_install.sh \
		test/check_man.sh $(INT_BIN) $(PG_INT) test/check_console.sh

# The store's contract suite runs on SQLite and, again, on PostgreSQL.
PG_UNIT := pg:$(BUILD)/test/unit/test_store
# And the integration tests of a store, again on PostgreSQL (the harness
# starts one server a program, a database a broker); test_faults keeps two
# of its tests there. Not those of what SQLite alone has (the installed and
# example configurations) or of no store (test_device_csr, test_wake).
PG_INT := $(patsubst %,pg:$(BUILD)/test/integration/test_%,admin admin_api authz \
	cert_identity cert_issue coexist ctrl ctrl_fleet device device_client faults \
	fleet leaks lifecycle modes options reload stats store unknown)

test-unit: $(UNIT_BIN)
	@sh test/run.sh $(UNIT_BIN) $(PG_UNIT)

test-integration: $(PLUGIN) $(TOOLS) $(INT_BIN) console
	@sh test/run.sh $(INT_BIN)

test-symbols: $(PLUGIN)
	@sh test/run.sh test/check_exports.sh

# The unit tests, then the integration tests with the plugin built with
# ASan and UBSan and loaded into the real broker (its runtime preloaded
# into mosquitto alone); a sanitizer report in a broker's output fails the
# test that ran it. LeakSanitizer's suppressions skip leaks of the broker's
# own (test/sanitizer.supp); the plugin's are reported.
# libpq is preloaded with it: loaded later, with the plugin, its first
# connection hung in glibc's bindtextdomain, and LeakSanitizer's scan at
# the broker's exit crashed.
ASAN_RT = $(shell $(CC) -print-file-name=libasan.so)
LIBPQ_RT = $(shell $(CC) -print-file-name=libpq.so.5)
SAN_ENV = IT_PLUGIN=$(PLUGIN) IT_DEVICE=$(DEVICE) IT_CTRL=$(CTRL) \
	IT_BROKER_PRELOAD="$(ASAN_RT) $(LIBPQ_RT)" IT_START_MS=20000 IT_WAIT_MS=15000 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/test/sanitizer.supp:print_suppressions=0 \
	ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0
test-san:
	@$(MAKE) --no-print-directory SAN=1 test-unit
	@$(MAKE) --no-print-directory SAN=1 test-integration-san

test-integration-san: $(PLUGIN) $(TOOLS) $(INT_BIN) console
	@$(SAN_ENV) sh test/run.sh $(INT_BIN)

# The worker thread and the broker-thread wake under ThreadSanitizer: their
# unit tests alone, the only ones with threads of their own to race.
TSAN_DIR := build/tsan
TSAN_FLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) -O1 -g \
	-fsanitize=thread -fno-omit-frame-pointer
TSAN_BIN := $(TSAN_DIR)/test_worker $(TSAN_DIR)/test_wake
$(TSAN_DIR)/test_worker: test/unit/test_worker.c lib/worker.c test/common/cu_main.c
$(TSAN_DIR)/test_wake: test/unit/test_wake.c plugin/wake.c lib/worker.c test/common/cu_main.c
$(TSAN_BIN): lib/worker.h plugin/wake.h
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -Iplugin -Ilib -Itest/common -o $@ $(filter %.c,$^) -lcunit
.PHONY: test-tsan
test-tsan: $(TSAN_BIN)
	@sh test/run.sh $(TSAN_BIN)

# The broker under valgrind (memcheck) for the integration tests that work
# the plugin hardest: any error, or a definite leak, in a broker's
# valgrind.log fails the test that started it.
VALGRIND_BIN := $(patsubst %,$(BUILD)/test/integration/test_%,device admin lifecycle modes leaks)
test-valgrind: deps $(PLUGIN) $(TOOLS) $(VALGRIND_BIN)
	@command -v valgrind >/dev/null || { echo "test-valgrind needs valgrind: apt-get install valgrind"; exit 1; }
	@IT_BROKER_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite \
		--log-file=@DIR@/valgrind.log" IT_START_MS=60000 IT_WAIT_MS=20000 \
		sh test/run.sh $(VALGRIND_BIN)

# The load benchmark (test/bench/bench): admin import, restart, broker round
# trip and device bootstrap for each N, on one broker it starts itself, and
# the bootstrap load beside a lockout attack; then the fleet import script. bench-quick is the short run for development.
BENCH_SRC := $(sort $(wildcard test/bench/*.c))
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o) $(BUILD)/test/common/tmpdir.o
BENCH_BIN := $(BUILD)/test/bench/bench
.PHONY: bench-quick

$(BENCH_BIN): $(BENCH_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_OBJ) -lmosquitto -ljansson

# The yardstick plugin for the floor phase: a request answered with no work.
FLOOR_SO := $(BUILD)/test/bench/floor_plugin.so
$(FLOOR_SO): test/bench/floor/floor_plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $<

bench: deps $(PLUGIN) $(BENCH_BIN) $(FLOOR_SO)
	$(BENCH_BIN) --configs 1000,1000000 --floor-plugin $(FLOOR_SO) --json bench-results.json
	@$(MAKE) --no-print-directory bench-import bench-issue bench-fleet bench-pg

bench-quick: deps $(PLUGIN) $(BENCH_BIN) $(FLOOR_SO)
	$(BENCH_BIN) --configs 10000 --seconds 3 --floor-plugin $(FLOOR_SO)

# The wake of the broker thread (plugin/wake.h) on a real broker: a plugin
# whose answers come from a worker job (test/bench/wake/wake_plugin.c),
# loaded by test/integration/test_wake.c and measured by bench-wake
# (latency one request at a time, wake on and off; WAKE_REQUESTS each).
WAKE_SO := $(BUILD)/test/bench/wake/wake_plugin.so
WAKE_BENCH := $(BUILD)/test/bench/wake/wake_bench
WAKE_REQUESTS ?= 1000
$(BUILD)/test/bench/wake/wake_plugin.o: ALL_CFLAGS += -Iplugin
$(WAKE_SO): $(BUILD)/test/bench/wake/wake_plugin.o $(BUILD)/plugin/wake.o $(BUILD)/lib/worker.o
	$(CC) $(ALL_CFLAGS) -shared -o $@ $^
$(BUILD)/test/integration/test_wake: $(WAKE_SO)
$(WAKE_BENCH): test/bench/wake/wake_bench.c $(INT_COMMON) $(TEST_COMMON) $(LIBA) $(WAKE_SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -Itest/integration -o $@ $< \
		$(INT_COMMON) $(TEST_COMMON) $(LIBA) $(INT_LIBS) -lpthread
.PHONY: bench-wake
bench-wake: $(WAKE_BENCH)
	$(WAKE_BENCH) --requests $(WAKE_REQUESTS)

# The core alone, without a broker: the plugin's own cost per bootstrap.
CORE_BENCH := $(BUILD)/test/bench/core/core_bench
BENCH_CORE_OBJ := $(BUILD)/test/bench/core/bench_core.o $(BUILD)/test/common/tmpdir.o
$(CORE_BENCH): test/bench/core/core_bench.c $(BENCH_CORE_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(LIBS)

# What a certificate issuance costs (protocol 3.3), without a broker.
ISSUE_BENCH := $(BUILD)/test/bench/core/issue_bench
$(ISSUE_BENCH): test/bench/core/issue_bench.c $(BENCH_CORE_OBJ) \
		$(BUILD)/test/common/pki.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(LIBS)

bench-issue: $(ISSUE_BENCH)
	$(ISSUE_BENCH) 300

# Fleets without a broker: a profile's rendering, and enrollment's rate.
FLEET_BENCH := $(BUILD)/test/bench/core/fleet_bench
$(FLEET_BENCH): test/bench/core/fleet_bench.c $(BENCH_CORE_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(LIBS)

bench-fleet: $(FLEET_BENCH)
	$(FLEET_BENCH) 100000 20000

# The soak (test/bench/soak/) on the bench's engine, broker and import.
SOAK_SECONDS ?= 300
SOAK_CONNECTIONS ?= 1000
SOAK_SRC := $(sort $(wildcard test/bench/soak/*.c))
SOAK_OBJ := $(SOAK_SRC:%.c=$(BUILD)/%.o) $(BUILD)/test/common/tmpdir.o \
	$(patsubst %,$(BUILD)/test/bench/%.o,admin broker loop proc reply stats)
SOAK_BIN := $(BUILD)/test/bench/soak/soak

$(SOAK_BIN): $(SOAK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(SOAK_OBJ) -lmosquitto -ljansson

soak: deps $(PLUGIN) $(SOAK_BIN)
	$(SOAK_BIN) --seconds $(SOAK_SECONDS) --connections $(SOAK_CONNECTIONS)

# Built by make test too, so that the benchmark tools never stop compiling.
bench-tools: $(BENCH_BIN) $(FLOOR_SO) $(CORE_BENCH) $(ISSUE_BENCH) $(FLEET_BENCH) \
	$(SOAK_BIN) $(WAKE_BENCH)

bench-core: $(CORE_BENCH)
	$(CORE_BENCH) 10000 200000 100000

# The PostgreSQL backend's lookups (test/bench/pg/pg_lookup.c) on a server
# it starts itself: 1, 2 and 4 connections on as many threads, then one
# connection in pipeline mode.
PG_BENCH_CONFIGS ?= 100000
PG_BENCH_SECONDS ?= 3
PG_LOOKUP := $(BUILD)/test/bench/pg/pg_lookup
$(PG_LOOKUP): test/bench/pg/pg_lookup.c $(BUILD)/test/common/pg_server.o \
		$(BUILD)/test/common/tmpdir.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(LIBS)

# Built by make test too, with the other benchmark tools.
bench-tools: $(PG_LOOKUP)

# The login replica's load time and memory at PG_BENCH_CONFIGS configs
# (test/bench/pg/logins_bench.c), on a server it starts itself.
LOGINS_BENCH := $(BUILD)/test/bench/pg/logins_bench
$(LOGINS_BENCH): test/bench/pg/logins_bench.c $(BUILD)/test/common/pg_server.o \
		$(BUILD)/test/common/tmpdir.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(LIBS)
bench-tools: $(LOGINS_BENCH)

.PHONY: bench-logins
bench-logins: $(LOGINS_BENCH)
	$(LOGINS_BENCH) --configs $(PG_BENCH_CONFIGS)

.PHONY: bench-pg-lookup
bench-pg-lookup: $(PG_LOOKUP)
	$(PG_LOOKUP) --configs $(PG_BENCH_CONFIGS) --seconds $(PG_BENCH_SECONDS)

# Moving a fleet (mosquitto_bootstrap_copy): COPY_BENCH_CONFIGS configs made
# in SQLite, copied into a throwaway PostgreSQL and back, each copy timed.
COPY_BENCH_CONFIGS ?= 100000
COPY_BENCH := $(BUILD)/test/bench/pg/copy_bench
$(COPY_BENCH): test/bench/pg/copy_bench.c $(BUILD)/test/common/pg_server.o \
		$(BUILD)/test/common/tmpdir.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -Itest/common -o $@ $< $(filter %.o,$^) $(LIBA) $(LIBS)
bench-tools: $(COPY_BENCH)

.PHONY: bench-copy
bench-copy: $(COPY_BENCH) $(COPY)
	$(COPY_BENCH) --configs $(COPY_BENCH_CONFIGS) --tool $(COPY)

# The PostgreSQL column of make bench (test/bench/pg/bench_pg.c): a broker
# on SQLite and one on a PostgreSQL it starts itself, the same configs in
# each, the bootstrap under load and one at a time on both in alternating
# slices, their ratio, and PostgreSQL's statements per bootstrap.
BENCH_PG_CONFIGS ?= 1000,100000
BENCH_PG_SECONDS ?= 5
BENCH_PG := $(BUILD)/test/bench/pg/bench_pg
BENCH_PG_OBJ := $(patsubst %,$(BUILD)/test/bench/%.o,admin broker load loop proc reply stats) \
	$(BUILD)/test/common/pg_server.o $(BUILD)/test/common/tmpdir.o
$(BENCH_PG): test/bench/pg/bench_pg.c $(BENCH_PG_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itest/bench -Itest/common -o $@ $< $(BENCH_PG_OBJ) \
		-lmosquitto -ljansson -lpq

bench-tools: $(BENCH_PG)

.PHONY: bench-pg
bench-pg: deps $(PLUGIN) $(BENCH_PG)
	$(BENCH_PG) --configs $(BENCH_PG_CONFIGS) --seconds $(BENCH_PG_SECONDS)

# libFuzzer needs clang. The library is built once more, instrumented
# (fuzzer-no-link), into build/fuzz; each target then links it. make fuzz
# runs every target for FUZZ_SECONDS on a scratch copy of its seeds in
# test/fuzz/corpus/<target>, so that the committed seeds do not grow, and
# fails when any of them found a crash (left in build/fuzz/run/).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) -g -O1 \
	$(FUZZ_SAN) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_TARGETS := request device admin certs jsonr csr
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ)/fuzz_%)
FUZZ_LIBA := $(FUZZ)/libbootstrap.a
FUZZ_CORE := $(FUZZ)/test/fuzz/fuzz_core.o $(FUZZ)/test/common/tmpdir.o
# The longest input each target tries: a request, a batch, a pair of PEMs,
# a JSON text.
FUZZ_MAX_LEN_request := 1024
FUZZ_MAX_LEN_device := 2048
FUZZ_MAX_LEN_admin := 8192
FUZZ_MAX_LEN_certs := 4096
FUZZ_MAX_LEN_jsonr := 4096
FUZZ_MAX_LEN_csr := 4096

$(FUZZ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Ilib -Itest/common \
		-MMD -MP -c $< -o $@

$(FUZZ)/schema_sql.c: $(SCHEMA) schema/embed.sh
	@mkdir -p $(dir $@)
	sh schema/embed.sh $(SCHEMA) > $@

$(FUZZ)/schema_sql.o: $(FUZZ)/schema_sql.c
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Ilib -c $< -o $@

$(FUZZ)/schema_pg_sql.c: $(PG_SCHEMA) schema/embed.sh
	@mkdir -p $(dir $@)
	sh schema/embed.sh -n bs_pg_schema $(PG_SCHEMA) > $@

$(FUZZ)/schema_pg_sql.o: $(FUZZ)/schema_pg_sql.c
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Ilib -c $< -o $@

$(FUZZ_LIBA): $(LIB_SRC:%.c=$(FUZZ)/%.o) $(FUZZ)/schema_sql.o $(FUZZ)/schema_pg_sql.o
	rm -f $@
	ar rcs $@ $^

$(FUZZ)/fuzz_%: $(FUZZ)/test/fuzz/fuzz_%.o $(FUZZ_LIBA)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(FUZZ_LIBA) \
		$(LIBS) -lpthread

.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ)/test/fuzz/fuzz_%.o) $(FUZZ)/schema_sql.c \
	$(FUZZ)/schema_pg_sql.c

$(FUZZ)/fuzz_device $(FUZZ)/fuzz_admin: $(FUZZ_CORE)
$(FUZZ)/fuzz_csr: $(FUZZ)/test/common/tmpdir.o $(FUZZ)/test/common/pki.o
$(FUZZ)/fuzz_device: $(FUZZ)/test/common/sealed.o

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@failed=; for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ)/run/$$t && mkdir -p $(FUZZ)/run/$$t && \
		cp test/fuzz/corpus/$$t/* $(FUZZ)/run/$$t/ && \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s" && \
		$(FUZZ)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-max_len=$$(case $$t in request) echo $(FUZZ_MAX_LEN_request);; \
				device) echo $(FUZZ_MAX_LEN_device);; admin) echo $(FUZZ_MAX_LEN_admin);; \
				*) echo $(FUZZ_MAX_LEN_certs);; esac) \
			-timeout=25 -artifact_prefix=$(FUZZ)/run/$$t- $(FUZZ)/run/$$t \
			> $(FUZZ)/run/$$t.log 2>&1 || failed="$$failed $$t"; \
		grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' \
			$(FUZZ)/run/$$t.log; \
		echo "corpus: $$(ls $(FUZZ)/run/$$t | wc -l) inputs"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "fuzz: crashes in:$$failed (see $(FUZZ)/run/*.log)"; exit 1; fi

bench-import: deps $(PLUGIN) $(CTRL)
	@CTRL=$(CTRL) sh test/bench/import.sh 100000

MAN_PAGES := $(sort $(wildcard man/*.[0-9]))
EXAMPLES := $(sort $(wildcard config-examples/*.conf config-examples/*.sh \
	config-examples/*.example))
SNIPPET := $(DESTDIR)$(SYSCONFDIR)/mosquitto/conf.d/mosquitto-bootstrap.conf

install: $(PLUGIN) $(TOOLS) $(if $(CONSOLE_BUILT),,console)
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(dir $(SNIPPET)) \
		$(DESTDIR)$(CONSOLEDIR)
	install -m 0644 $(addprefix $(or $(CONSOLE_BUILT),$(CONSOLE_OUT))/,$(CONSOLE_FILES)) \
		$(DESTDIR)$(CONSOLEDIR)/
	install -m 0644 $(PLUGIN) $(DESTDIR)$(PLUGINDIR)/mosquitto_bootstrap.so
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.7,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man7/
	sed -e 's|@PLUGINDIR@|$(PLUGINDIR)|' -e 's|@STATEDIR@|$(STATEDIR)|' \
		config-examples/conf.d/mosquitto-bootstrap.conf.in > $(SNIPPET)
	chmod 0644 $(SNIPPET)
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# The Debian package, built with Debian's own tools (debhelper) from a copy
# of the tree in build/deb/, then checked with lintian (the tags it still
# reports are explained in debian/mosquitto-bootstrap.lintian-overrides).
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_SRC = build/deb/mosquitto-bootstrap-$(DEB_VERSION)
DEB_FILE = build/deb/mosquitto-bootstrap_$(DEB_VERSION)_$(shell dpkg --print-architecture).deb
.PHONY: deb
# The web console is built here first, with npm, and handed to the package
# build as console-built/ (debian/rules installs it from there), so that the
# package build itself fetches nothing.
deb: console
	@command -v dh >/dev/null && command -v lintian >/dev/null || { \
		echo "make deb needs debhelper and lintian: apt-get install debhelper lintian"; exit 1; }
	rm -rf build/deb && mkdir -p $(DEB_SRC)
	tar --exclude=./build --exclude=./.git --exclude=./console/node_modules -cf - . | \
		tar -C $(DEB_SRC) -xf -
	cd $(DEB_SRC) && $(MAKE) -s clean
	cp -r $(CONSOLE_OUT) $(DEB_SRC)/console-built
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 \
		|| { tail -30 ../build.log; exit 1; }
	lintian --fail-on error,warning $(DEB_FILE)
	@echo "built $(DEB_FILE)"

# Installs that package on this machine (as root, CI's throwaway one) and
# bootstraps a device through Debian's broker: test/check_deb.sh.
.PHONY: test-deb
test-deb: deb
	@sh test/check_deb.sh $(DEB_FILE)

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/mosquitto_bootstrap.so $(SNIPPET)
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(filter %.7,$(MAN_PAGES))))
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONSOLEDIR)
	-rmdir $(DESTDIR)$(dir $(CONSOLEDIR:/=)) 2>/dev/null

clean:
	rm -rf build lib/libbootstrap.a $(PLUGIN)

-include $(shell find build -name '*.d' -type f 2>/dev/null)
