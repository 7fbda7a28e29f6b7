"""Outreach on a contact: log, note, warm, meetings, follow-ups, snooze, done, undo."""
