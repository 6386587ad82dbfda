"""Notices: what a driver (or an operator) is told, live or by Web Push, in order, once."""
