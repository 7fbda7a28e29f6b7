"""The chat side: one grammar, one conversation and one rendering over the core, with Slack, Telegram and
console adapters, the `pipedriven` command and the wiring that runs it all."""
