"""Functional forms of the metrics: plain functions over whole inputs."""

from ferrometrics.functional import clustering, regression

__all__ = ["clustering", "regression"]
