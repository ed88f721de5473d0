"""Shared helpers of the ferrometrics test suite."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

# Differential tests compare with scikit-learn to 1e-9 relative. Values near zero (an adjusted
# index of random labelings) are compared to 1e-12 absolute instead, because their relative
# error measures only the cancellation inside the reference.
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12


def assert_close(actual: float, expected: float, rel: float = RELATIVE_TOLERANCE) -> None:
    """Assert that two floats agree to ``rel`` relative or 1e-12 absolute."""
    assert isinstance(actual, float), f"expected a Python float, got {type(actual).__name__}"
    if math.isnan(expected):
        assert math.isnan(actual), f"expected NaN, got {actual!r}"
        return
    assert math.isclose(actual, expected, rel_tol=rel, abs_tol=ABSOLUTE_TOLERANCE), (
        f"got {actual!r}, expected {expected!r} (difference {actual - expected:.3e})"
    )


class FakeTensor:
    """A stand-in for a CPU torch tensor: it converts only through ``.detach().cpu().numpy()``."""

    def __init__(self, values: object) -> None:
        self._values = np.asarray(values)

    def detach(self) -> "FakeTensor":
        return self

    def cpu(self) -> "FakeTensor":
        return self

    def numpy(self) -> np.ndarray:
        return self._values

    def __array__(self, *args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("tensors must be read through .detach().cpu().numpy()")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261204)


def find_cli() -> Optional[Path]:
    """Return the ferrometrics binary: $FERROMETRICS_CLI when set, else the release build, else
    the debug build, or None when none exists."""
    if os.environ.get("FERROMETRICS_CLI"):
        candidates = [Path(os.environ["FERROMETRICS_CLI"])]
    else:
        candidates = [
            REPO / "target" / "release" / "ferrometrics",
            REPO / "target" / "debug" / "ferrometrics",
        ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def mpi_environment() -> dict:
    """Return the environment for ``mpirun``: shared-memory and loopback transports only, so
    that the tests open no network interface, and, for root, Open MPI's permission to run."""
    environment = dict(os.environ)
    environment.setdefault("OMPI_MCA_btl", "self,vader")
    environment.setdefault("OMPI_MCA_oob_tcp_if_include", "lo")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        environment.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        environment.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return environment
