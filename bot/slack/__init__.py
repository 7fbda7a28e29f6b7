"""The Slack adapter: the morning DM, one-tap rows, `/outreach`, modals, the App Home and CSV uploads over the core.

`app.py` builds the slack-bolt AsyncApp; `uploads`, `commands`, `actions`, `views` and `home` each register
their listeners with what `deps` gives them; `render` turns neutral replies into Block Kit; `messenger` puts them
(and their charts) where they belong; `notifier` is the scheduler's way in; `service` runs it all in Socket Mode
or over HTTP.
"""
