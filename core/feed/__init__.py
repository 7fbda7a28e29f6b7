"""The feed: today's ranked suggestions and a user's home."""
