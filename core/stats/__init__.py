"""Numbers: outreach and meetings by campaign, user or method."""
