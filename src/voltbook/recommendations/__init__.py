"""Recommendations: available, compatible chargers a vehicle can reach on its remaining range."""
