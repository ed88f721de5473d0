#!/usr/bin/env bash
# Builds ferrometrics-mpi and runs its tests in one process and under mpirun with 2 and 4
# processes.
#
# Needs Open MPI and libclang (Debian: libopenmpi-dev openmpi-bin libclang-dev). As root, this
# installs them with apt-get when they are missing; otherwise it skips the tests with a message
# and exits 0. Set FERROMETRICS_COCO_DATA to the folder of the COCO val2014 sample to also check
# COCO mAP on it.
set -euo pipefail

cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

have_mpi() {
    command -v mpirun >/dev/null && command -v mpicc >/dev/null \
        && ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1
}

step "Open MPI and libclang"
if ! have_mpi; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            libopenmpi-dev openmpi-bin libclang-dev >/dev/null
    else
        echo "skipped: the MPI tests need Open MPI and libclang; install the Debian packages" \
            "libopenmpi-dev openmpi-bin libclang-dev (as root) and run $0 again"
        exit 0
    fi
fi
mpirun --version | head -n 1

# Shared-memory and loopback transports only, so the tests open no network interface.
export OMPI_MCA_btl=self,vader
export OMPI_MCA_oob_tcp_if_include=lo
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

step "cargo clippy (ferrometrics-mpi, and the CLI with --features mpi)"
cargo clippy -p ferrometrics-mpi --all-targets -- -D warnings
cargo clippy -p ferrometrics-cli --features mpi --all-targets -- -D warnings

step "cargo test -p ferrometrics-mpi (one process)"
cargo test -p ferrometrics-mpi

test_binary=$(cargo test -p ferrometrics-mpi --test mpi_sync --no-run --message-format=json \
    | python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") \
            and message["target"]["name"] == "mpi_sync":
        print(message["executable"])')

for ranks in 2 4; do
    step "mpirun -n $ranks mpi_sync"
    mpirun --oversubscribe -n "$ranks" "$test_binary"
done

step "CLI --shard under mpirun"
# Copied aside, and the default build restored at target/release/ferrometrics, because both
# builds write that path.
cargo build --release -p ferrometrics-cli --features mpi
cp target/release/ferrometrics target/release/ferrometrics-with-mpi
cargo build --release -p ferrometrics-cli
venv="${FERROMETRICS_VENV:-$PWD/.venv}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import pytest" 2>/dev/null; then
    FERROMETRICS_MPI_CLI="$PWD/target/release/ferrometrics-with-mpi" \
        "$venv/bin/python" -m pytest tests/python/test_cli_shard.py -q

    step "Python sync over mpi4py under mpirun"
    # mpi4py builds against the installed Open MPI; it is optional, so a failed build skips.
    if "$venv/bin/python" -m pip install --quiet mpi4py; then
        "$venv/bin/python" -m pytest tests/python/test_distributed.py -q -k mpirun
    else
        echo "skipped: mpi4py did not install"
    fi
else
    echo "skipped: the CLI tests need pytest in $venv; run scripts/test.sh to create it"
fi
