"""Functional forms of the metrics: plain functions over whole inputs."""

from ferrometrics.functional import classification, clustering

__all__ = ["classification", "clustering"]
