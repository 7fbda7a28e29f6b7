"""CSV import of contacts: reading the file, the one-transaction write, and chat uploads."""
