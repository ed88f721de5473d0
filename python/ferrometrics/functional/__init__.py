"""Functional forms of the metrics: plain functions over whole inputs."""

from ferrometrics.functional import classification, clustering, detection, regression

__all__ = ["classification", "clustering", "detection", "regression"]
