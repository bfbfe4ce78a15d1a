"""The benchmark suite: every figure a median over runs, as a ratio against a baseline measured in the same run."""
