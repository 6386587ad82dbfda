"""Drivers, operators and their vehicles; accounts and sign-in."""
