#!/usr/bin/env bash
# arm64 tests under user-mode emulation: cross-compiles the test binaries of
# the packages with arm64-specific code (the NEON kernels in internal/simd)
# and of kb/localindex and kb/internal/framelog, which use them, and runs
# them with qemu-aarch64 from Debian's qemu-user-static (installed with apt
# if missing). The simd tests run twice: with the NEON kernels, which
# TestKernelSelected requires on arm64, and with BEDROCKKIT_NOSIMD=1 (the
# pure-Go fallback). Exits non-zero if a test fails or does not run.
#
# TestCrashKill is skipped under emulation: it re-executes the test binary
# as a child process, which needs binfmt_misc to start an arm64 binary; it
# has no architecture-specific code and runs natively in .ci/run.
#
# Timings under emulation are only indicative of real arm64 hardware.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

qemu=""
for q in qemu-aarch64-static qemu-aarch64; do
	if command -v "$q" >/dev/null 2>&1; then
		qemu=$q
		break
	fi
done
if [ -z "$qemu" ]; then
	echo "arm64: installing qemu-user-static" >&2
	if [ "$(id -u)" = 0 ]; then
		apt_get=(apt-get)
	else
		apt_get=(sudo apt-get)
	fi
	DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y --no-install-recommends qemu-user-static >/dev/null ||
		{ DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update >/dev/null &&
			DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y --no-install-recommends qemu-user-static >/dev/null; }
	qemu=qemu-aarch64-static
fi
"$qemu" --version | head -n 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run PKG NAME [ENV...] -- ARGS: runs the arm64 test binary of PKG in its
# source directory (tests read testdata relative to it), requiring PASS and
# at least one test that ran.
run() {
	local pkg=$1 name=$2
	shift 2
	local envs=()
	while [ "$1" != "--" ]; do
		envs+=("$1")
		shift
	done
	shift
	local bin="$work/$name.test" out="$work/$name.out"
	echo "== arm64 $pkg ($name) =="
	local t0=$SECONDS rc=0
	(cd "$pkg" && env "${envs[@]}" "$qemu" "$bin" -test.count=1 -test.timeout=20m -test.v "$@") >"$out" 2>&1 || rc=$?
	grep -E '^(--- FAIL|FAIL|panic:)' "$out" || true
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$out"
		echo "arm64: $pkg ($name) failed (exit $rc)" >&2
		exit 1
	fi
	local passed
	passed=$(grep -c -- '^--- PASS' "$out" || true)
	if [ "$passed" -eq 0 ] || ! grep -qx PASS "$out"; then
		tail -n 40 "$out"
		echo "arm64: $pkg ($name) ran no tests" >&2
		exit 1
	fi
	echo "$passed tests passed in $((SECONDS - t0)) s"
}

build() {
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$work/$2.test" "./$1"
}

build internal/simd simd
build kb/internal/framelog framelog
build kb/localindex localindex

run internal/simd simd BEDROCKKIT_NOSIMD= -- -test.run .
grep -q -- '--- PASS: TestKernelSelected' "$work/simd.out" || { echo "arm64: TestKernelSelected did not run" >&2; exit 1; }
grep -q 'accelerated=true' "$work/simd.out" || { echo "arm64: the NEON kernels were not selected" >&2; exit 1; }
run internal/simd simd BEDROCKKIT_NOSIMD=1 -- -test.run .
run kb/internal/framelog framelog BEDROCKKIT_NOSIMD= -- -test.run .
run kb/localindex localindex BEDROCKKIT_NOSIMD= -- -test.skip '^TestCrashKill$'

echo "== arm64 NEON vs pure Go (under emulation: indicative only) =="
(cd internal/simd && "$qemu" "$work/simd.test" -test.run '^$' -test.bench 'Dot/' -test.benchtime 20000x) | grep -E '^Benchmark' || true
echo "arm64 ok"
