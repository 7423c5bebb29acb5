"""The benchmark: a platform-scale dataset generator and the `make bench` harness (see README, "Benchmark")."""
