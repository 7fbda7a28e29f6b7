"""The Telegram adapter: the shared conversation over python-telegram-bot, with inline keyboards."""
