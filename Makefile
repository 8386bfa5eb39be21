# SPDX-License-Identifier: MIT
# The two commands of the README: `make run` and `make test`. Both install what is missing.
.PHONY: all deps test-deps build release run test unit fuzz-build fuzz-short fuzz-long format format-check tidy tsan kernel-test bench clean

JOBS ?= $(shell nproc)
DEMO_DIR ?= $(CURDIR)/build/demo-export
FUZZ_SECONDS ?= 45

all: build

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh --test

build: deps
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)

release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS) --target ninep

# Builds the release binary and serves a demo export on 127.0.0.1:5640.
run: release
	@mkdir -p $(DEMO_DIR) && [ -e $(DEMO_DIR)/README ] || echo "Hello from ninep." > $(DEMO_DIR)/README
	@echo "make run: --no-auth: the demo serves every attach as the anonymous user (nobody when"
	@echo "  run as root, else you); a real deployment authenticates (ninep serve --auth munge)."
	./build/release/tools/ninep/ninep serve --no-auth $(DEMO_DIR)

# Everything CI checks: formatting, the ASan/UBSan build and its tests (kernel guest included),
# the server and client tests under ThreadSanitizer, and a short run of every fuzz target under
# clang. (`make tidy` is not in it yet: src/ is not clean under it.)
test: test-deps format-check
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)
	ctest --preset debug
	$(MAKE) tsan
	$(MAKE) fuzz-short

# ThreadSanitizer (clang) where threads meet: the server (network threads and workers) and the
# client (its I/O thread and callers on others).
TSAN_RUN = TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS) --target server_tests client_tests
	cd build/tsan/tests && $(TSAN_RUN) ./server_tests --gtest_brief=1
	cd build/tsan/tests && $(TSAN_RUN) ./client_tests --gtest_brief=1

# clang-tidy over the libraries (src/) with the compile commands of the clang build.
tidy: deps
	cmake --preset tsan
	./scripts/tidy.sh build/tsan

fuzz-build: deps
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS) --target fuzzers

fuzz-short: fuzz-build
	./fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

fuzz-long: fuzz-build
	./fuzz/run.sh build/fuzz 1800

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check: deps
	@git ls-files '*.cpp' '*.hpp' | xargs -r clang-format --dry-run --Werror

bench: release
	cmake --build --preset release -j $(JOBS) --target wire_bench stat_load
	./build/release/bench/wire_bench
	./bench/run.sh

clean:
	rm -rf build
