"""Helpers that the benchmarks (bench/) and the tests (tests/, the apps' tests) share: running
the real site under gunicorn, generating load, making photos, stopping the servers they start.

bench/ and tests/ both import this package and never each other. Nothing here is a test or a
fixture, and nothing here goes into the container image.
"""
