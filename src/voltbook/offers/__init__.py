"""Offers: discounts that fill idle chargers, sent to nearby drivers whose vehicle fits."""
