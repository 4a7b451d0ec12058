"""Helpers shared by tests: controllable fakes, child processes, database checks."""
