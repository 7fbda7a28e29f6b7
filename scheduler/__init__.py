"""The scheduler: on every beat it claims the digests and nudges the core finds due, paces their sends and records
how each ended; what they say and how they reach a chat is the courier's (scheduler/ports.py)."""
