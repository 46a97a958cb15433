"""Benchmarks: measure the product through its own code paths (not shipped product code)."""
