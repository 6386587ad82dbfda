"""Availability forecasts: will at least one connector of a station be free in 15, 30 or 60
minutes, learned from the status history and the bookings voltbook knows (docs/adr/0028)."""
