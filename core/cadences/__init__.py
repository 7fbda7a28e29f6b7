"""Cadences: strategies, their templates, and each contact's plan (when steps fall due, what an activity does)."""
