"""Adapters for secrets: argon2id password hashes and signed bearer tokens."""
