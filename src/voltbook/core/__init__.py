"""Shared kernel: clock, ids, errors, geo math and the event bus port. Depends on nothing."""
