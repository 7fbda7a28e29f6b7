"""The Pipedrive sync's side of the core: the outbox rows' life, what users see of it, and their tokens."""
