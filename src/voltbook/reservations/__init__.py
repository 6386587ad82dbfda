"""Reservations: a connector booked now or for a later slot, held by the charger itself."""
