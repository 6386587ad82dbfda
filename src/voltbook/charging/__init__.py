"""Charging sessions: who charges where, how much energy, and with which id tag."""
