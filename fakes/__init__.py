"""Local stand-ins for Slack, Telegram and Pipedrive, speaking their wire formats and keeping their limits.

Shared by the tests and the benchmarks (neither imports the other): each fake is an aiohttp server on
127.0.0.1 that the real bot reaches through SLACK_API_URL, TELEGRAM_API_URL or PIPEDRIVE_BASE_URL.

- `fakes.slack`: Slack's Web API as the SDK calls it, Block Kit checked, and a client that signs requests.
- `fakes.telegram`: the Bot API for the real python-telegram-bot stack, updates by polling or webhook.
- `fakes.pipedrive`: Pipedrive's REST API (v1 and v2) with its rolling rate limits, on injectable time.
- `fakes.limited`: the Slack and Telegram fakes counting as the platforms do (429 over their limits), and
  `python -m fakes.limited slack|telegram` to serve one in a process of its own.
- `fakes.sendmessage`: a bare Telegram `sendMessage` with its limits, and a plain HTTP notifier for it.
- `fakes.processes`: a `pipedriven run` subprocess against the fakes, and the users it serves.
- `fakes.cpu_groups`: a CPU quota and weight for a process (a cgroup, as a container's CPU limit and request).

Not installed with the package: the tests (pythonpath ".") and `python -m bench`, run from the repository's
root, import it from there.
"""
