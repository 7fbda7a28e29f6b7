"""Numbers: outreach and meetings by campaign, user or method, and the heatmaps of them per week or weekday."""
