#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every check: formatting, clippy,
# the Rust tests and doctests, and pytest against the installed Python package.
#
# Needs only a Rust toolchain (with rustfmt and clippy) and python3 with venv; the Python
# packages come from PyPI into .venv (or $FERROMETRICS_VENV).
set -euo pipefail

cd "$(dirname "$0")/.."
venv="${FERROMETRICS_VENV:-$PWD/.venv}"

step() { printf '\n==> %s\n' "$*"; }

step "Python environment in $venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r requirements-dev.txt

step "cargo fmt --check"
cargo fmt --all --check

# ferrometrics-mpi needs Open MPI; scripts/test-mpi.sh checks and tests it.
step "cargo clippy"
cargo clippy --workspace --exclude ferrometrics-mpi --all-targets -- -D warnings

step "cargo test (unit, integration and doctests)"
cargo test --workspace --exclude ferrometrics-mpi

step "build the CLI and the Python extension (release)"
cargo build --release -p ferrometrics-cli
VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --release --quiet

step "pytest"
FERROMETRICS_CLI="$PWD/target/release/ferrometrics" "$venv/bin/python" -m pytest tests/python -q

step "MPI (scripts/test-mpi.sh)"
bash scripts/test-mpi.sh
