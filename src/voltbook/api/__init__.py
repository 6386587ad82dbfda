"""HTTP API (FastAPI): the edge where requests become use-case calls."""
