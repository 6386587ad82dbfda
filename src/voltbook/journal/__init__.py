"""The message journal: the last OCPP messages each station sent and was sent."""
