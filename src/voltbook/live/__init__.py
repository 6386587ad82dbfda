"""The app end adapters: the live WebSocket channel, Web Push, the Redis bus."""
