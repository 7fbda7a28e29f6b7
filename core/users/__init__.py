"""Users: accounts, their linked chat accounts, their settings, and the questions the bot asked them."""
