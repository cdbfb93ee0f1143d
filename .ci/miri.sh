#!/usr/bin/env bash
# Miri over every test that reaches `unsafe` code (issue 10):
#   tests/capi_abuse.rs    the C ABI called from Rust with small, NULL, huge,
#                          misaligned and overlapping buffers
#   tests/kernel_paths.rs  the SIMD kernels against the generic code
#   tests/requant_slice.rs slice requantization (its AVX2 output stage)
#   tests/depthwise_paths.rs the depthwise kernels against an i64 reference
# in three passes: qkit compiled with no extra target features (scalar and
# SSE2 paths), with AVX2 forced, and with AVX-512 F/BW/VNNI forced. Miri
# implements the x86 intrinsics qkit uses (SSE2, AVX2, and AVX-512 F/BW/VNNI
# including vpdpbusd, checked on nightly 2026-05-19); should a future kernel
# use one it does not implement, the test that reaches it is reported
# SKIPPED in capitals with the intrinsic's name and the other tests still run.
#
# Undefined behaviour, a failing test, or a pass that outlives its time
# budget (the tests are meant to be Miri-sized under cfg(miri)) fails the
# script. So does a missing Miri: it is installed if absent, and if that
# fails the script says so and exits 1 instead of passing silently.
#
# The target features are applied to qkit only (cargo's profile rustflags),
# so the dependencies are built once for all three passes.
#
# Environment: QKIT_MIRI_SECONDS (per cargo invocation, default 120),
# MIRIFLAGS (passed through; Stacked Borrows is Miri's default).
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

budget=${QKIT_MIRI_SECONDS:-120}
tests=(capi_abuse kernel_paths requant_slice depthwise_paths)
passes=("scalar:" "avx2:+avx2" "avx512:+avx512f,+avx512bw,+avx512vnni")
start=$(date +%s)
failed=()
skipped=()

say() { echo "=== miri: $* ($(($(date +%s) - start))s)"; }
shout() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! $*"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}

# --- Miri itself: present, or installed, or a loud failure -----------------
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  say "the miri component is missing: installing it"
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
  rustup component add --toolchain nightly miri rust-src || true
fi
if ! cargo +nightly miri --version; then
  shout "MIRI IS NOT AVAILABLE (rustup component add --toolchain nightly miri failed): the unsafe code was NOT checked. FAILING."
  exit 1
fi
if ! cargo +nightly miri setup >/dev/null 2>&1; then
  shout "cargo miri setup FAILED: the unsafe code was NOT checked. FAILING."
  cargo +nightly miri setup
  exit 1
fi

# --- one cargo-miri invocation -----------------------------------------------
# miri_run LOG FEATURES TEST [-- harness args]: exit status of cargo miri test.
miri_run() {
  local log=$1 feats=$2 test=$3
  shift 3
  local cfg=()
  if [ -n "$feats" ]; then
    cfg=(-Zprofile-rustflags --config "profile.dev.package.qkit.rustflags=[\"-Ctarget-feature=$feats\"]")
  fi
  timeout "$budget" cargo +nightly miri test "${cfg[@]}" --features std,capi --test "$test" "$@" >"$log" 2>&1
}

# classify LOG STATUS: ok | ub | unsupported | timeout | fail
classify() {
  local log=$1 rc=$2
  if [ "$rc" -eq 0 ]; then echo ok
  elif grep -q "Undefined Behavior" "$log"; then echo ub
  elif grep -q "unsupported operation" "$log"; then echo unsupported
  elif [ "$rc" -eq 124 ]; then echo timeout
  else echo fail
  fi
}

report_failure() {
  local what=$1 kind=$2 log=$3
  failed+=("$what ($kind)")
  case $kind in
    ub) shout "UNDEFINED BEHAVIOUR in $what"
        grep -A 40 -m 1 "Undefined Behavior" "$log" ;;
    timeout) shout "$what did not finish within ${budget}s: its tests are not Miri-sized (use cfg(miri))" ;;
    *) shout "$what FAILED"
       tail -n 40 "$log" ;;
  esac
}

mkdir -p target
for p in "${passes[@]}"; do
  name=${p%%:*}
  feats=${p#*:}
  for t in "${tests[@]}"; do
    log="target/miri-$name-$t.log"
    say "$name: tests/$t.rs${feats:+ with $feats}"
    miri_run "$log" "$feats" "$t"
    kind=$(classify "$log" $?)
    case $kind in
      ok) grep -E "^test result" "$log" | tail -n 1 ;;
      unsupported)
        # Miri stops the whole binary at the first operation it does not
        # implement: run the tests one by one to run everything it can.
        shout "$name/$t: Miri does not implement an operation it reached; running the tests one by one"
        grep -m 1 -A 3 "unsupported operation" "$log"
        mapfile -t names < <(miri_run "$log.list" "$feats" "$t" -- --list --format terse &&
          sed -n 's/: test$//p' "$log.list")
        for n in "${names[@]}"; do
          one="$log.one"
          miri_run "$one" "$feats" "$t" -- --exact "$n"
          k=$(classify "$one" $?)
          case $k in
            ok) echo "ok: $n" ;;
            unsupported)
              what=$(grep -m 1 -o "unsupported operation: .*" "$one")
              shout "SKIPPED under Miri ($name): $t::$n -- $what"
              skipped+=("$name/$t::$n: $what") ;;
            *) report_failure "$name/$t::$n" "$k" "$one" ;;
          esac
        done ;;
      *) report_failure "$name/$t" "$kind" "$log" ;;
    esac
  done
done

say "done"
if [ ${#skipped[@]} -gt 0 ]; then
  shout "${#skipped[@]} TEST(S) NOT CHECKED BY MIRI (unsupported operations):"
  printf '    %s\n' "${skipped[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  shout "MIRI FAILED: ${#failed[@]} problem(s):"
  printf '    %s\n' "${failed[@]}"
  exit 1
fi
echo "miri: every pass clean"
