"""The Slack adapter: the morning DM, one-tap rows, `/outreach`, modals and the App Home over the core.

`app.py` builds the slack-bolt AsyncApp; `commands`, `actions`, `views` and `home` register its listeners;
`render` turns neutral replies into Block Kit; `messenger` puts them where they belong; `notifier` is the
scheduler's way in; `service` runs it all in Socket Mode or over HTTP.
"""
