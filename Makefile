# PAGEMAP_SCAN series: build, boot and test harness.  See README.md.
CONFIG ?= base
SERIES ?= all
export SERIES

.PHONY: all deps run shell check check-full check-harness bench bench-queries bench-criu bench-smoke stress tree export kernel selftests tools initramfs guest clean

all: guest

# What the harness needs from Debian; installs what is missing (as root).
deps:
	scripts/install-deps

tree: deps
	scripts/tree

export:
	scripts/export

kernel: tree
	scripts/build-kernel $(CONFIG)

selftests: tree
	@[ -f build/headers/include/linux/fs.h ] || scripts/build-kernel base
	scripts/build-selftests

tools: selftests
	$(MAKE) -C tools OUT=$(CURDIR)/build/tools HDR=$(CURDIR)/build/headers/include

initramfs: selftests tools
	scripts/mkinitramfs

guest: kernel initramfs

run: guest
	scripts/vm-run --config $(CONFIG) --label run -- demo

shell: guest
	scripts/vm-run --config $(CONFIG) --shell

# The fast gate (CI): at most 40 minutes cold.  check-full: everything.
check:
	scripts/check

check-full:
	scripts/check --full

check-harness: guest
	scripts/check-harness

# The guest is built (incrementally) first, so a fresh clone can run it.
bench: guest
	scripts/bench
	scripts/bench-queries
	scripts/bench-criu

# The users' queries beside pagemap (scripts/bench-queries: build/bench/queries.md)
bench-queries: guest
	scripts/bench-queries

# CRIU's checkpoint alone (scripts/bench-criu: build/bench/criu.md)
bench-criu: guest
	scripts/bench-criu

bench-smoke: guest
	scripts/bench --smoke

# Hours: the reliability programs at stress sizes (guest/stress.list);
# STRESS_LINES=A-B runs part of the list (scripts/stress --lines).
stress: guest
	scripts/stress --config $(CONFIG) $(if $(STRESS_LINES),--lines $(STRESS_LINES))

clean:
	rm -rf build/base build/debug build/logs build/selftests build/tools build/initramfs* build/headers build/bisect* build/main-only* build/static-*
