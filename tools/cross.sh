#!/usr/bin/env bash
# qkit on the cores it is for: cross builds and tests under QEMU.
#
#   tools/cross.sh            the CI run (what .ci/run calls), below
#   tools/cross.sh bench      the CI run, then the instruction-count benchmarks
#                             (Cortex-M4 and Cortex-M55 with -icount; AArch64
#                             with an exec trace, the prototypes beside), the
#                             AArch64 prototype tests and the Cortex-M55
#                             dev-profile build (see below)
#
# 1. Installs the Debian packages it needs when they are missing (apt-get).
# 2. Two builds side by side (two target dirs, so neither waits for the
#    other's lock; each builds core/std once per target and keeps it):
#    - qkit (root workspace, target/cross/qkit): `cargo check` with
#      -D warnings for thumbv6m-none-eabi (Cortex-M0/M0+: the generic
#      kernels) and riscv32imc-unknown-none-elf, then the aarch64 release
#      test binaries (--features std: SDOT detected at run time): the library
#      tests, kernel_paths (every kernel path against the reference for every
#      length 0..=300), requant_slice (every output-stage path against the
#      portable one, every mode, every length 0..=300) and the golden tests
#      of the layers that run the kernels (FC, conv, the FC requantization);
#    - the test firmware examples/arm/qemu (target/cross/fw), qkit inside it
#      with -D warnings: thumbv7em-none-eabihf (cortex-m4, DSP) and
#      thumbv8m.main-none-eabihf (cortex-m55, Helium) in one cargo run.
# 3. Runs the firmware on QEMU Cortex-M4 (mps2-an386), Cortex-M7 (mps2-an500)
#    and Cortex-M55 (mps3-an547): every qkit kernel path of the core
#    (`Isa::ALL`: Generic, Dsp, and Mve on the M55) against the plain-loop
#    specification for every length 0..=300 and alignment, and the TFLite
#    Micro FC golden vectors through qkit's layers; exit status = result.
# 4. Runs the aarch64 tests under qemu-aarch64 on -cpu max (Neon and
#    NeonDotprod) and -cpu cortex-a53 (Neon only).
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

# A Rust with the library source -Zbuild-std needs (Debian's, or rustup's
# stable where Debian's is older than the MSRV: tools/cross-rust.sh); flags
# from the caller would replace the crates' own rustflags.
. "$root/tools/cross-rust.sh"
export CARGO_TERM_COLOR=never
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET CARGO_TARGET_DIR
dir=${QKIT_CROSS_TARGET_DIR:-$root/target/cross}
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# Lint level of the qkit builds: D (deny); QKIT_CROSS_LINT=W only to measure a
# checkout that still has warnings on these targets. The firmware workspace's
# .cargo/config.toml carries the Cortex-M flags (linker script, target-cpu);
# cargo appends these per-target variables to them.
lint=${QKIT_CROSS_LINT:-D}
for t in THUMBV6M_NONE_EABI RISCV32IMC_UNKNOWN_ELF THUMBV7EM_NONE_EABIHF THUMBV8M_MAIN_NONE_EABIHF \
         AARCH64_UNKNOWN_LINUX_GNU; do
  export "CARGO_TARGET_${t}_RUSTFLAGS=-$lint warnings"
done
rustc --version
qemu_m() { # qemu_m <machine> <cpu> <elf> [extra qemu args]: semihosting, exit status = the firmware's
  local mach=$1 cpu=$2 elf=$3; shift 3
  timeout 600 qemu-system-arm -machine "$mach" -cpu "$cpu" -nographic "$@" \
    -semihosting-config enable=on,target=native -kernel "$elf"
}
# The aarch64 tests: the library's, every kernel path, the output stage's
# paths, the layers' golden vectors. Dependencies (the dev-dependencies and
# std) at opt-level 1: they only drive the tests, and it halves their build.
a64_tests=(--lib --test kernel_paths --test requant_slice --test layer_golden --test conv_golden --test requant_fc_golden)
a64_test() {
  cargo test --release -Zbuild-std --target aarch64-unknown-linux-gnu --features std \
    --config 'profile.release.package."*".opt-level=1' "${a64_tests[@]}" "$@"
}

step "building, side by side: qkit (check: thumbv6m, riscv32imc; aarch64 tests) | firmware (Cortex-M4, Cortex-M55)"
mkdir -p "$dir"
(
  export CARGO_TARGET_DIR=$dir/qkit
  cargo check --lib -Zbuild-std=core --target thumbv6m-none-eabi --target riscv32imc-unknown-none-elf
  a64_test --no-run
) > "$dir/qkit.log" 2>&1 &
qkit_job=$!
(
  # rustc 1.96 builds core for cortex-m55 in the release profile used here
  # (opt-level 3); in the dev profile (opt-level 0) LLVM aborts while
  # compiling core for cortex-m55 ("Do not know how to promote this
  # operator!"): a debug build gives the CPU to qkit alone (`bench` checks it).
  # The same crash happens at opt-level 3 with 16 codegen units, so the
  # firmware keeps the workspace's profile (LTO, one codegen unit).
  cd examples/arm
  CARGO_TARGET_DIR=$dir/fw cargo build --release -Zbuild-std=core \
    --target thumbv7em-none-eabihf --target thumbv8m.main-none-eabihf -p qemu
) > "$dir/fw.log" 2>&1 &
fw_job=$!
ok=1
wait $qkit_job || { echo "qkit build FAILED:"; tail -60 "$dir/qkit.log"; ok=0; }
wait $fw_job || { echo "firmware build FAILED:"; tail -60 "$dir/fw.log"; ok=0; }
[ $ok = 1 ]
grep -h "^warning\|^error" "$dir/qkit.log" "$dir/fw.log" || true
m4=$dir/fw/thumbv7em-none-eabihf/release
m55=$dir/fw/thumbv8m.main-none-eabihf/release

step "the golden vectors embedded in the firmware are those of tests/data/fc_golden.json"
python3 examples/arm/qemu/gen_golden.py --check

step "test firmware on QEMU Cortex-M4 (mps2-an386)"
qemu_m mps2-an386 cortex-m4 "$m4/qemu-test"
step "test firmware on QEMU Cortex-M7 (mps2-an500)"
qemu_m mps2-an500 cortex-m7 "$m4/qemu-test"
step "test firmware on QEMU Cortex-M55 (mps3-an547)"
qemu_m mps3-an547 cortex-m55 "$m55/qemu-test"

for cpu in max cortex-a53; do
  step "qkit's aarch64 tests under qemu-aarch64 -cpu $cpu"
  CARGO_TARGET_DIR=$dir/qkit \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu" \
    a64_test -q
done

if [ "$mode" = bench ]; then
  export CARGO_TARGET_DIR=$dir/fw
  step "Cortex-M55, dev profile: core for plain thumbv8m.main, target-cpu=cortex-m55 for qkit alone (cargo rustc)"
  cargo rustc --lib -Zbuild-std=core --target thumbv8m.main-none-eabihf -- -C target-cpu=cortex-m55 -$lint warnings
  step "AArch64 benchmark and prototypes (examples/arm/a64)"
  (cd examples/arm && cargo build --release -Zbuild-std=std,panic_abort --target aarch64-unknown-linux-gnu -p a64)
  a64=$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release/a64
  step "instruction counts: Cortex-M4 (mps2-an386), -icount shift=7 + SysTick"
  qemu_m mps2-an386 cortex-m4 "$m4/qemu-bench" -icount shift=7,align=off,sleep=off
  step "instruction counts: Cortex-M55 (mps3-an547), -icount shift=7 + SysTick"
  qemu_m mps3-an547 cortex-m55 "$m55/qemu-bench" -icount shift=7,align=off,sleep=off
  for cpu in max cortex-a53; do
    step "AArch64 prototypes on qemu-aarch64 -cpu $cpu"
    qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu "$a64" test
    step "instruction counts: AArch64 -cpu $cpu (exec trace)"
    python3 examples/arm/a64/count.py "$a64" $cpu
  done
fi

step "done"
