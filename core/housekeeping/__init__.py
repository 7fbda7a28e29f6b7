"""Housekeeping: the bookkeeping tables trimmed."""
