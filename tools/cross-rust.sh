# Sourced by tools/cross.sh and .ci/run: puts on PATH a Rust that builds
# `core` / `std` from source (`-Zbuild-std`) for the Arm and RISC-V targets,
# and exports RUSTC_BOOTSTRAP=1 for the -Z flags.
#
# 1. Debian's (packages rustc-web, cargo-web, rust-web-src) when it is at
#    least qkit's MSRV: no download outside Debian's registry.
# 2. Otherwise the machine's rustup stable, with its `rust-src` component
#    (added here when missing). Debian bookworm's rustc-web is 1.85, older
#    than the MSRV; other Debian releases have carried 1.96.
# Prints which one it chose; fails if neither can build qkit.
cross_rust() {
  local root msrv deb
  root=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
  msrv=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
  deb=$(/usr/bin/rustc --version 2>/dev/null | awk '{print $2}')
  # `sort -V` puts the smaller version first: $deb >= $msrv.
  if [ -n "$deb" ] && [ -d /usr/lib/rustlib/src/rust/library ] &&
     [ "$(printf '%s\n%s\n' "$msrv" "$deb" | sort -V | head -1)" = "$msrv" ]; then
    export PATH=/usr/bin:$PATH
    echo "cross Rust: Debian's rustc $deb (qkit's MSRV $msrv)"
  else
    echo "cross Rust: Debian's rustc ${deb:-(none)} is older than qkit's MSRV $msrv; rustup stable with rust-src"
    if ! rustup component list --toolchain stable --installed 2>/dev/null | grep -q '^rust-src'; then
      timeout 300 rustup component add rust-src --toolchain stable
    fi
    local bin
    bin=$(dirname "$(rustup which --toolchain stable rustc)")
    export PATH=$bin:$PATH
    rustc --version
  fi
  export RUSTC_BOOTSTRAP=1
}
cross_rust
