#!/usr/bin/env bash
# qkit on the cores it is for: cross builds and tests under QEMU.
#
#   tools/cross.sh            everything below (what .ci/run calls)
#   tools/cross.sh bench      also the instruction-count benchmarks (Cortex-M4,
#                             Cortex-M55 with -icount; AArch64 with an exec trace)
#                             and the Cortex-M55 dev-profile build (see below)
#
# 1. Installs the Debian packages it needs when they are missing (apt-get).
# 2. Builds qkit with -D warnings for thumbv6m-none-eabi (Cortex-M0/M0+),
#    thumbv7em-none-eabihf (Cortex-M4/M7), thumbv8m.main-none-eabihf with
#    target-cpu=cortex-m55 (Helium), riscv32imc-unknown-none-elf and
#    aarch64-unknown-linux-gnu, with Debian's Rust (1.96, -Zbuild-std).
# 3. Runs the test firmware examples/arm/qemu (qemu-test) on QEMU Cortex-M4
#    (mps2-an386), Cortex-M7 (mps2-an500) and Cortex-M55 (mps3-an547): every
#    qkit kernel path and the Arm prototypes against the specification and
#    the TFLite Micro FC golden vectors; exit status = result.
# 4. Runs qkit's `cargo test` for aarch64 under qemu-aarch64 on -cpu max
#    (dotprod, i8mm) and -cpu cortex-a53 (neither), and the AArch64
#    prototypes' tests (examples/arm/a64) on both.
#
# Everything is built into target/cross, one target dir reused by the next
# run: core is built once per target; aarch64's std twice (the prototypes'
# release profile and qkit's test build differ in panic strategy and LTO).
# Needs no network once the packages and crates are there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
step() { echo; echo "=== cross: $* ($(( $(date +%s) - start ))s)"; }
mode=${1:-test}

step "Debian packages"
pkgs=(rustc-web cargo-web rust-web-src gcc-arm-none-eabi gcc-aarch64-linux-gnu libc6-dev-arm64-cross
      qemu-system-arm qemu-user)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "all present: ${pkgs[*]}"
fi

# Debian's rustc/cargo (with the library source -Zbuild-std needs) before
# rustup's; flags from the caller would replace the crates' own rustflags.
export PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET
export CARGO_TARGET_DIR=${QKIT_CROSS_TARGET_DIR:-$root/target/cross}
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# Lint level of the qkit builds: D (deny); QKIT_CROSS_LINT=W only to measure a
# checkout that still has warnings on these targets.
lint=${QKIT_CROSS_LINT:-D}
rustc --version
qemu_m() { # qemu_m <machine> <cpu> <elf> [extra qemu args]: semihosting, exit status = the firmware's
  local mach=$1 cpu=$2 elf=$3; shift 3
  timeout 600 qemu-system-arm -machine "$mach" -cpu "$cpu" -nographic "$@" \
    -semihosting-config enable=on,target=native -kernel "$elf"
}

step "qkit with -D warnings: thumbv6m-none-eabi (Cortex-M0/M0+: the generic kernels), riscv32imc-unknown-none-elf"
for t in thumbv6m-none-eabi riscv32imc-unknown-none-elf; do
  RUSTFLAGS="-$lint warnings" cargo build --release --lib -Zbuild-std=core --target $t
done

# The firmware workspace's .cargo/config.toml carries the Cortex-M flags
# (linker script, target-cpu); cargo appends these per-target variables to
# them, so qkit (a path dependency of the firmware, its warnings not capped),
# the prototypes and the firmware share one build of core per target.
# The same variable denies warnings in every aarch64 build (qkit as the
# prototypes' dependency, then qkit and its tests for `cargo test`).
export CARGO_TARGET_THUMBV7EM_NONE_EABIHF_RUSTFLAGS="-$lint warnings"
export CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-$lint warnings"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-$lint warnings"

step "Cortex-M4/M7 (thumbv7em-none-eabihf, DSP): qkit and the test firmware"
(cd examples/arm && cargo build --release -Zbuild-std=core --target thumbv7em-none-eabihf -p qemu)
m4=$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release

step "Cortex-M55 (thumbv8m.main-none-eabihf, target-cpu=cortex-m55, Helium): qkit and the test firmware"
# rustc 1.96 builds core for cortex-m55 in the release profile used here
# (opt-level 3); in the dev profile (opt-level 0) LLVM aborts while compiling
# core for cortex-m55 ("Do not know how to promote this operator!"): a debug
# build gives the CPU to qkit alone (`bench` mode checks that it builds).
(cd examples/arm && cargo build --release -Zbuild-std=core --target thumbv8m.main-none-eabihf -p qemu)
m55=$CARGO_TARGET_DIR/thumbv8m.main-none-eabihf/release

step "the golden vectors embedded in the firmware are those of tests/data/fc_golden.json"
python3 examples/arm/qemu/gen_golden.py --check

step "test firmware on QEMU Cortex-M4 (mps2-an386)"
qemu_m mps2-an386 cortex-m4 "$m4/qemu-test"
step "test firmware on QEMU Cortex-M7 (mps2-an500)"
qemu_m mps2-an500 cortex-m7 "$m4/qemu-test"
step "test firmware on QEMU Cortex-M55 (mps3-an547)"
qemu_m mps3-an547 cortex-m55 "$m55/qemu-test"

step "AArch64 (aarch64-unknown-linux-gnu): qkit with -D warnings and the prototypes' tests"
(cd examples/arm && cargo build --release -Zbuild-std=std,panic_abort --target aarch64-unknown-linux-gnu -p a64)
a64=$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release/a64
for cpu in max cortex-a53; do
  step "AArch64 prototypes on qemu-aarch64 -cpu $cpu"
  qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu "$a64" test
done

for cpu in max cortex-a53; do
  step "qkit's cargo test for aarch64 under qemu-aarch64 -cpu $cpu"
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu" \
    cargo test --release -Zbuild-std --target aarch64-unknown-linux-gnu
done

if [ "$mode" = bench ]; then
  step "Cortex-M55, dev profile: core for plain thumbv8m.main, target-cpu=cortex-m55 for qkit alone (cargo rustc)"
  cargo rustc --lib -Zbuild-std=core --target thumbv8m.main-none-eabihf -- -C target-cpu=cortex-m55 -$lint warnings
  step "instruction counts: Cortex-M4 (mps2-an386), -icount shift=7 + SysTick"
  qemu_m mps2-an386 cortex-m4 "$m4/qemu-bench" -icount shift=7,align=off,sleep=off
  step "instruction counts: Cortex-M55 (mps3-an547), -icount shift=7 + SysTick"
  qemu_m mps3-an547 cortex-m55 "$m55/qemu-bench" -icount shift=7,align=off,sleep=off
  for cpu in max cortex-a53; do
    step "instruction counts: AArch64 -cpu $cpu (exec trace)"
    python3 examples/arm/a64/count.py "$a64" $cpu
  done
fi

step "done"
