# pqrnn build and test entry points. `make setup` on a fresh Debian machine
# installs everything and runs the demo; `make test` runs the tests.
# Bazel users: `bazel build //... && bazel test //...` (see WORKSPACE).

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CXX ?= g++
CXXFLAGS_CORE := -std=c++17 -O2 -Wall -Wextra -Werror -fPIC
APT_PACKAGES := libicu-dev pkg-config libflatbuffers-dev bazel-bootstrap clang libclang-rt-14-dev qemu-user g++-aarch64-linux-gnu

# The plain C++ cores (no TensorFlow): the projection and QRNN fo-pooling.
CORE_SRCS := tflite_ops/projection/sequence_string_projection.cc tflite_ops/qrnn/qrnn_pooling.cc
CORE_HDRS := $(wildcard tflite_ops/projection/*.h) tflite_ops/qrnn/qrnn_pooling.h
CORE_TEST_SRCS := $(wildcard tflite_ops/projection/*_test.cc)
LIB := pqrnn/lib
TF_OPS_SO := $(LIB)/_pqrnn_tf_ops.so
TFLITE_OPS_SO := $(LIB)/_pqrnn_tflite_ops.so

# Evaluated only by the recipes that need TensorFlow's flags.
TF_DIR = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/tensorflow
TF_CFLAGS = -isystem $(TF_DIR)/include -D_GLIBCXX_USE_CXX11_ABI=1 -DEIGEN_MAX_ALIGN_BYTES=64

.PHONY: setup apt venv ops core-test core-test-aarch64 test test-fast demo bench-projection lint clean

setup: apt venv ops demo

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

venv:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .

ops: $(TF_OPS_SO) $(TFLITE_OPS_SO)

$(TF_OPS_SO): Makefile tflite_ops/tf_kernel.cc tflite_ops/qrnn_tf_kernel.cc $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(LIB)
	$(CXX) $(CXXFLAGS_CORE) -shared $(TF_CFLAGS) -I. \
	  tflite_ops/tf_kernel.cc tflite_ops/qrnn_tf_kernel.cc $(CORE_SRCS) -o $@.tmp \
	  -L$(TF_DIR) -l:libtensorflow_framework.so.2 -Wl,-rpath,'$$ORIGIN/../../tensorflow' -Wl,-rpath,$(TF_DIR) && mv $@.tmp $@

# The TFLite adapter needs no TFLite headers (tflite_ops/tflite_abi.h declares
# the ABI). MutableOpResolver::AddCustom comes from TensorFlow's
# libtensorflow_cc.so.2, so the library also loads in a process without TF.
$(TFLITE_OPS_SO): Makefile tflite_ops/tflite_kernel.cc tflite_ops/qrnn_tflite_kernel.cc tflite_ops/qrnn_tflite_kernel.h tflite_ops/tflite_abi.h $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(LIB)
	$(CXX) $(CXXFLAGS_CORE) -shared -I. -DFLATBUFFERS_LOCALE_INDEPENDENT=0 \
	  tflite_ops/tflite_kernel.cc tflite_ops/qrnn_tflite_kernel.cc $(CORE_SRCS) -o $@.tmp \
	  -L$(TF_DIR) -l:libtensorflow_cc.so.2 -Wl,-rpath,'$$ORIGIN/../../tensorflow' -Wl,-rpath,$(TF_DIR) && mv $@.tmp $@

build/core_test: $(CORE_TEST_SRCS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	$(CXX) $(CXXFLAGS_CORE) -I. $(CORE_TEST_SRCS) $(CORE_SRCS) -o $@

build/qrnn_core_test: tflite_ops/qrnn/qrnn_pooling_test.cc $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	$(CXX) $(CXXFLAGS_CORE) -I. tflite_ops/qrnn/qrnn_pooling_test.cc $(CORE_SRCS) -o $@

# The scalar build of the projection's vector paths (SSE2 / NEON), so both
# are held to the same golden vectors.
build/core_test_scalar: $(CORE_TEST_SRCS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	$(CXX) $(CXXFLAGS_CORE) -DPQRNN_SCALAR_ONLY -I. $(CORE_TEST_SRCS) $(CORE_SRCS) -o $@

core-test: build/core_test build/core_test_scalar build/qrnn_core_test
	build/core_test tflite_ops/projection/testdata
	build/core_test_scalar tflite_ops/projection/testdata
	build/qrnn_core_test .

# Same golden vectors on aarch64, where plain `char` is unsigned; and what a
# phone runs: the QRNN pooling core and the TFLite adapter of both ops (its
# test drives them through tflite_abi.h with a fake runtime, no TensorFlow).
A64_CXX := aarch64-linux-gnu-g++ $(CXXFLAGS_CORE) -static -I.
core-test-aarch64:
	@mkdir -p build
	$(A64_CXX) $(CORE_TEST_SRCS) $(CORE_SRCS) -o build/core_test_aarch64
	$(A64_CXX) tflite_ops/qrnn/qrnn_pooling_test.cc $(CORE_SRCS) -o build/qrnn_core_test_aarch64
	$(A64_CXX) -DFLATBUFFERS_LOCALE_INDEPENDENT=0 tflite_ops/tflite_kernel_test.cc \
	  tflite_ops/tflite_kernel.cc tflite_ops/qrnn_tflite_kernel.cc $(CORE_SRCS) -o build/tflite_kernel_test_aarch64
	qemu-aarch64 build/core_test_aarch64 tflite_ops/projection/testdata
	qemu-aarch64 build/qrnn_core_test_aarch64 .
	qemu-aarch64 build/tflite_kernel_test_aarch64

test: core-test ops
	$(PY) -m pytest -q -n 2 tests

# The README's end-to-end demo on data that ships with the code: train the
# smoke preset (about a minute), evaluate it, predict two utterances, export
# checked float32 and int8 .tflite files, and benchmark them side by side.
DEMO_WORKDIR ?= workdirs/demo
demo: ops
	$(PY) -m pqrnn.bin.train --config=pqrnn/configs/smoke.py --workdir=$(DEMO_WORKDIR)
	$(PY) -m pqrnn.bin.evaluate --workdir=$(DEMO_WORKDIR) --split=test
	printf 'wake me up at 7 am tomorrow\nwie ist das wetter in berlin\n' | \
	  $(PY) -m pqrnn.bin.predict --workdir=$(DEMO_WORKDIR)
	$(PY) export/quantize.py --workdir=$(DEMO_WORKDIR) --method=qat
	$(PY) export/export.py --workdir=$(DEMO_WORKDIR)
	$(PY) export/benchmark.py --graph=$(DEMO_WORKDIR)/export/model_int8.tflite \
	  --graph=$(DEMO_WORKDIR)/export/model_float32.tflite --num_runs=300

build/projection_benchmark: tflite_ops/projection/benchmark_main.cc $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p build
	$(CXX) $(CXXFLAGS_CORE) -I. $< $(CORE_SRCS) -o $@

bench-projection: ops build/projection_benchmark
	$(PY) -m pqrnn.bin.benchmark_projection --core_benchmark=build/projection_benchmark

lint:
	$(VENV)/bin/ruff check pqrnn tests export tools
	$(VENV)/bin/ruff format --check pqrnn tests export tools

clean:
	rm -rf build $(LIB)/*.so

# Sanitizer builds and fuzzing of the C++ core (issue: hostile input).
include tools/reliability.mk
