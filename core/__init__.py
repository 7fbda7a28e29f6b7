"""Pipedriven's domain core: models, commands, ranking, stats and the database.

The core never imports a chat SDK, an HTTP client or a scheduler; adapters call it through
`core.service.Core.execute(command)` and receive plain frozen dataclasses back.
"""
