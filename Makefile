# pg_ha top-level Makefile.
#
# The extension builds with PGXS (make, make install, make installcheck);
# the router and the tests have their own Makefiles, driven from here.
# common/ holds the PostgreSQL-free code the agent, the supervisor and the
# router share; each program compiles it into its own objects.
#
#   make                  extension, router and supervisor
#   make install          install the extension into PostgreSQL 15
#   make installcheck     pg_regress against a running node (see scripts/test.sh)
#   make unit             unit tests (cmocka, ASan/UBSan)
#   make fuzz             bounded libFuzzer run of the parsers
#   make prove            TAP tests (real ZooKeeper, postgres, HAProxy)
#   make test             everything; what .ci/run and the README run
#                         (needs root: installs deps, runs servers as postgres)

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config

MODULE_big = pg_ha
OBJS = \
	extension/pg_ha.o \
	extension/ha_shmem.o \
	extension/ha_guc.o \
	extension/ha_worker.o \
	extension/ha_state.o \
	extension/ha_session.o \
	extension/ha_keys.o \
	extension/ha_duties.o \
	extension/ha_sync.o \
	extension/ha_history.o \
	extension/ha_config.o \
	extension/ha_switchover.o \
	extension/ha_restart.o \
	extension/ha_reinit.o \
	extension/ha_stranded.o \
	extension/ha_local.o \
	extension/ha_gate.o \
	extension/ha_zk.o \
	extension/ha_http.o \
	extension/ha_tls.o \
	extension/ha_allow.o \
	extension/ha_api.o \
	extension/ha_api_views.o \
	extension/ha_api_member.o \
	extension/ha_sql.o \
	extension/ha_sql_member.o \
	extension/ha_member_api.o \
	extension/http_parse.o \
	extension/health.o \
	extension/role.o \
	extension/role_change.o \
	extension/switchover_rule.o \
	extension/restart_rule.o \
	extension/reinit_rule.o \
	extension/stranded_rule.o \
	extension/sync_rule.o \
	extension/slot_rule.o \
	extension/ha_slots.o \
	common/addr.o \
	common/allowlist.o \
	common/cluster_keys.o \
	common/conninfo.o \
	common/dyn_config.o \
	common/http_client.o \
	common/http_evict.o \
	common/iso_time.o \
	common/json_merge.o \
	common/json_reader.o \
	common/json_rows.o \
	common/json_writer.o \
	common/reply_socket.o \
	common/slot_name.o \
	common/member_json.o \
	common/text.o

DATA = extension/pg_ha.control extension/pg_ha--1.0.sql extension/pg_ha--1.0--1.1.sql
# not "contrib": CREATE EXTENSION looks in share/extension
MODULEDIR = extension
PGFILEDESC = "pg_ha - native high availability for PostgreSQL"

REGRESS = pg_ha_setup pg_ha_status pg_ha_guc pg_ha_zk_down
REGRESS_OPTS = --inputdir=. --outputdir=$(REGRESS_OUTPUT)
REGRESS_OUTPUT ?= results_dir

# OpenSSL: the API's TLS (postgres links it already)
SHLIB_LINK += -lzookeeper_mt -lpthread -lssl -lcrypto
PG_CPPFLAGS += -I$(srcdir)/extension -I$(srcdir)/common
# Warnings are errors in CI (make WERROR=1); -Wextra's unused-parameter is
# noise for PostgreSQL's callback signatures.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: router supervisor unit fuzz prove test

all: router supervisor

router:
	$(MAKE) -C router $(if $(filter 1,$(WERROR)),WERROR=1)

supervisor:
	$(MAKE) -C supervisor

install: install-supervisor
install-supervisor: supervisor
	$(MAKE) -C supervisor install

unit:
	$(MAKE) -C tests/unit check

fuzz:
	$(MAKE) -C tests/fuzz run

prove:
	tests/run-tap.sh

test:
	scripts/test.sh

clean: clean-sub
clean-sub:
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tests/fuzz clean
	-$(MAKE) -C router clean
	-$(MAKE) -C supervisor clean
	rm -rf results_dir

# PGXS tracks no header dependencies: rebuild every object when a header changes.
$(OBJS): $(wildcard extension/*.h common/*.h)
