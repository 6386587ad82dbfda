"""Id tokens (RFID cards and app tokens) and the authorization lists stations keep."""
