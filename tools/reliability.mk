# Reliability targets: fuzzing and sanitizer builds (docs/RELIABILITY.md).
# Included from the Makefile (`include tools/reliability.mk`); until then:
#   make -f Makefile -f tools/reliability.mk sanitize
#
#   fuzz          libFuzzer + ASan + UBSan on the projection core, FUZZ_SECONDS (60)
#   fuzz-long     the same for FUZZ_LONG_SECONDS (1500), niced; log in build/fuzz/long.log
#   fuzz-regress  replays the committed regression corpus and the seeds (ASan + UBSan, no libFuzzer)
#   fuzz-regress-aarch64  the same replay cross-compiled for aarch64, under qemu-user
#   sanitize      core tests + TFLite kernel test + fuzz-regress, built with ASan + UBSan
#
# Needs clang 14 with libclang-rt-14-dev (the Makefile's `apt` installs both).

SAN_CXX ?= clang++
SAN_FLAGS := -fsanitize=address,undefined,float-divide-by-zero -fno-sanitize-recover=all \
  -fno-omit-frame-pointer -g -O1
SAN_CXXFLAGS := -std=c++17 -Wall -Wextra -Werror $(SAN_FLAGS) -I.
# halt_on_error: a report fails the run. Leak checking is on (LeakSanitizer).
export ASAN_OPTIONS ?= halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1

FUZZ_DIR := build/fuzz
FUZZ_SRCS := tflite_ops/fuzz/projection_fuzzer.cc
FUZZ_REGRESSIONS := tflite_ops/fuzz/regressions
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 1500
FUZZ_MAX_LEN ?= 8192
# libFuzzer flags shared by fuzz and fuzz-long. New corpus entries go to the
# first folder (build/fuzz/corpus, kept between runs, never committed); a
# crashing input is written to build/fuzz/artifacts/.
FUZZ_FLAGS = -max_len=$(FUZZ_MAX_LEN) -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
  -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds $(FUZZ_REGRESSIONS)

KERNEL_TEST_SRCS := tflite_ops/tflite_kernel_test.cc tflite_ops/tflite_kernel.cc tflite_ops/qrnn_tflite_kernel.cc $(CORE_SRCS)

.PHONY: fuzz fuzz-long fuzz-seeds fuzz-regress fuzz-regress-aarch64 sanitize sanitize-core sanitize-tflite

$(FUZZ_DIR)/projection_fuzzer: $(FUZZ_SRCS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(FUZZ_DIR)
	$(SAN_CXX) $(SAN_CXXFLAGS) -fsanitize=fuzzer $(FUZZ_SRCS) $(CORE_SRCS) -o $@

# The standalone replayer: the same target without libFuzzer (any compiler).
$(FUZZ_DIR)/projection_replay: $(FUZZ_SRCS) tflite_ops/fuzz/standalone_main.cc $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(FUZZ_DIR)
	$(SAN_CXX) $(SAN_CXXFLAGS) $(FUZZ_SRCS) tflite_ops/fuzz/standalone_main.cc $(CORE_SRCS) -o $@

# Seeds: tests/hostile_strings.py under several option headers, plus real
# utterances from ../shared/data when present (generated, never committed).
fuzz-seeds:
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(PY) tflite_ops/fuzz/make_seed_corpus.py --out $(FUZZ_DIR)/seeds

fuzz: $(FUZZ_DIR)/projection_fuzzer fuzz-seeds
	nice $(FUZZ_DIR)/projection_fuzzer -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS)

fuzz-long: $(FUZZ_DIR)/projection_fuzzer fuzz-seeds
	nice -n 19 $(FUZZ_DIR)/projection_fuzzer -max_total_time=$(FUZZ_LONG_SECONDS) $(FUZZ_FLAGS) \
	  2>&1 | tee $(FUZZ_DIR)/long.log | grep -E '^#[0-9]+ +(pulse|DONE)|^stat::|ERROR|SUMMARY|^Done' ; \
	  exit $${PIPESTATUS[0]}

fuzz-regress: $(FUZZ_DIR)/projection_replay fuzz-seeds
	$(FUZZ_DIR)/projection_replay $(FUZZ_REGRESSIONS) $(FUZZ_DIR)/seeds

# Core tests (golden vectors included) under ASan + UBSan.
build/core_test_san: $(CORE_TEST_SRCS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	$(SAN_CXX) $(SAN_CXXFLAGS) $(CORE_TEST_SRCS) $(CORE_SRCS) -o $@

sanitize-core: build/core_test_san
	build/core_test_san tflite_ops/projection/testdata

# The TFLite kernel driven through tflite_abi.h with a fake runtime.
build/tflite_kernel_test_san: $(KERNEL_TEST_SRCS) $(CORE_HDRS) tflite_ops/tflite_abi.h
	@mkdir -p build
	$(SAN_CXX) $(SAN_CXXFLAGS) -DFLATBUFFERS_LOCALE_INDEPENDENT=0 $(KERNEL_TEST_SRCS) -o $@

sanitize-tflite: build/tflite_kernel_test_san
	build/tflite_kernel_test_san

sanitize: sanitize-core sanitize-tflite fuzz-regress

# The same replay on aarch64 under qemu-user (plain `char` is unsigned there;
# no sanitizers: ASan does not run under qemu-user).
$(FUZZ_DIR)/projection_replay_aarch64: $(FUZZ_SRCS) tflite_ops/fuzz/standalone_main.cc $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(FUZZ_DIR)
	aarch64-linux-gnu-g++ $(CXXFLAGS_CORE) -static -I. $(FUZZ_SRCS) tflite_ops/fuzz/standalone_main.cc $(CORE_SRCS) -o $@

fuzz-regress-aarch64: $(FUZZ_DIR)/projection_replay_aarch64 fuzz-seeds
	qemu-aarch64 $(FUZZ_DIR)/projection_replay_aarch64 $(FUZZ_REGRESSIONS) $(FUZZ_DIR)/seeds \
	  $(wildcard $(FUZZ_DIR)/corpus)
