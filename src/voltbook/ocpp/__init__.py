"""OCPP gateway: speaks OCPP 1.6J and 2.0.1 to stations, domain to the rest."""
