"""Benchmarks: plain scripts (``python -m benchmarks.NAME``) that write benchmarks/results/ and the tables the docs quote."""
