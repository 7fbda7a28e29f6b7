"""The container's health check: exit 0 when `pipedriven run` answers GET /healthz with 200.

It asks HEALTH_PORT first (default 8080), then PORT (default 3000, where Slack's HTTP mode serves /healthz too).
Standard library only: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def healthy(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    ports = dict.fromkeys([os.environ.get("HEALTH_PORT", "8080"), os.environ.get("PORT", "3000")])
    sys.exit(0 if any(healthy(port) for port in ports) else 1)
