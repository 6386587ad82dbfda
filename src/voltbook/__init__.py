"""voltbook: find, reserve and fill electric-vehicle chargers."""

__version__ = "0.1.0"
