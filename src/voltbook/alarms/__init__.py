"""Alarms: faulted connectors and offline stations that an operator must see."""
