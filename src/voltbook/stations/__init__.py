"""Sites, stations and connectors: where chargers are and what state they are in."""
