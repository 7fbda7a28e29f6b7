"""Digests and nudges: what is due to whom, claimed exactly once."""
