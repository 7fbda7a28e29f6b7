"""The product's fixed words and scales, shared by the models, validation and the ORM-free commands."""

ROLES = ("consultant", "golden_ticket")
CAMPAIGN_STATUSES = ("draft", "live", "closed")
# Outreach methods a user logs with one tap; the first six are the product's outreach channels.
OUTREACH_METHODS = ("linkedin", "email", "call", "campaign_email", "referral", "conference")
# A touch recorded in Pipedrive (an activity marked done there); its method in stats is "pipedrive:<type>".
PIPEDRIVE_TOUCH = "pipedrive"
PIPEDRIVE_METHOD_PREFIX = "pipedrive:"
# What counts as outreach in stats: the methods a user logs, and the touches done in Pipedrive.
COUNTED_OUTREACH = OUTREACH_METHODS + (PIPEDRIVE_TOUCH,)
ACTIVITY_KINDS = OUTREACH_METHODS + ("meeting", "note", PIPEDRIVE_TOUCH)
OUTCOMES = ("none", "replied", "meeting_requested", "meeting_booked", "no_answer", "not_interested")
WARM_THRESHOLD = 4  # warmness from which a contact is warm (and goes to Pipedrive)
MAX_WARMNESS = 5
