"""Contacts in a user's own bank: add, edit, find, show."""
