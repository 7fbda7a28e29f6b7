"""Learning from outcomes: which outreach method leads to a meeting, for whom."""
