"""Campaigns: create, edit, list, show, and add contacts to one."""
