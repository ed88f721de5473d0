"""Functional forms of the metrics: plain functions over whole inputs."""

from ferrometrics.functional import clustering

__all__ = ["clustering"]
