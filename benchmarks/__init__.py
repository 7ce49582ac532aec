"""Benchmarks (`make bench`, `make bench-quick`): not tests, never a CI gate. See benchmarks/run.py."""
