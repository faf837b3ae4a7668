"""Fake model providers speaking the real wire formats: the only fakes in the suite.

`FakeModelServer` runs one in-process; `python -m tests.fakes.serve` runs one as a process.
"""
