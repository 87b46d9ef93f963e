"""Evaluation: test-set runs, reports and out-of-distribution suites."""
