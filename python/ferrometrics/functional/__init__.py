"""Functional forms of the metrics: plain functions over whole inputs."""

from ferrometrics.functional import clustering, detection, regression

__all__ = ["clustering", "detection", "regression"]
