"""The only exceptions that leave the Pipedrive package. httpx, JSON and shape errors are translated here.

Each says whether a retry may help (`retryable`) and, for what only a person can fix, the sentence to tell
the user (`user_notice`). Messages never carry the API token.
"""

from __future__ import annotations


class PipedriveError(Exception):
    """Pipedrive could not be reached or refused the request."""

    retryable = False

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        super().__init__(message or self.__doc__)
        self.status = status

    @property
    def user_notice(self) -> str | None:
        """What the acting user must be told (once) because only a person can fix it; None otherwise."""
        return None


class PipedriveUnavailable(PipedriveError):
    """Pipedrive did not answer properly (a timeout, a lost connection or a server error); it will be retried."""

    retryable = True


class RateLimited(PipedriveUnavailable):
    """Pipedrive kept saying the rate limit was reached; it will be retried."""

    def __init__(self, message: str | None = None, *, reset_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.reset_after = reset_after


class AuthenticationFailed(PipedriveError):
    """Pipedrive refused the API token."""

    @property
    def user_notice(self) -> str:
        return (
            "Pipedrive refused the API token, so your syncs are stopped. Ask an admin to check "
            "PIPEDRIVE_API_TOKEN (or your own token), then say `sync retry all`."
        )


class RequestRejected(PipedriveError):
    """Pipedrive rejected the request as invalid."""


class SetupProblem(PipedriveError):
    """Something in the Pipedrive company's set-up is missing (a field, an activity type)."""

    @property
    def user_notice(self) -> str:
        return f"{self} Once that is fixed, say `sync retry all`."
