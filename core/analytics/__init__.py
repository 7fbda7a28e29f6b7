"""Strategy analytics (conversion, stalls and adherence of cadences) and the Golden Ticket team's weekly summary."""
