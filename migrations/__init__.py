"""Alembic migration history of Pipedriven (run with `pipedriven db upgrade`)."""
