"""Benchmarks: plain scripts (``python -m benchmarks.NAME``) that write the README tables."""
