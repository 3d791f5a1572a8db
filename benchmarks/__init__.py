"""Benchmarks of kam_policy against a hand-written floor and three anchor engines (``make bench``).

See ``docs/performance.md`` for the workloads, the method and the latest results.
"""
