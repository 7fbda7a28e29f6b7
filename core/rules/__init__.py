"""Rules from outcomes: what each contact's last touches say to do next, and the team's day counts for them."""
