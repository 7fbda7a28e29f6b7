"""Pipedriven's domain core: one package per feature on a small kernel.

Each feature (contacts, outreach, campaigns, importing, cadences, feed, stats, users, privacy, sync, deliveries,
housekeeping) holds its commands and results in `commands.py` (plain frozen dataclasses, no ORM) and their
handlers in `handlers.py`. The kernel: `command` and `views` (what commands carry and results share), `context`
(the unit of work, loaders, ownership checks), `outbox`, `registry`, `service` (`Core.execute`), `errors`,
`clock`, `db`, `settings`, `models`, `validation`.

The core never imports a chat SDK, an HTTP client or a scheduler; adapters call it through
`core.service.Core.execute(command)` and receive plain frozen dataclasses back.
"""
