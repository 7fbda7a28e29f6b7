"""Privacy: a person's data exported and erased, and the audit trail of who did what."""
