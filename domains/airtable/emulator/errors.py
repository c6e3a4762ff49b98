"""Errors the emulator answers in Airtable's own shapes.

    ApiProblem           -> {"error": {"type": ..., "message": ...}} with a status
      RateLimited        -> 429 {"errors": [{"type": "RATE_LIMIT_REACHED", ...}]}
"""

from __future__ import annotations

from typing import Any


class ApiProblem(Exception):
    """A request Airtable would refuse: the status and the error document it answers."""

    def __init__(self, status: int, type_: str, message: str = "") -> None:
        super().__init__(f"{status} {type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message

    def document(self) -> dict[str, Any]:
        if self.status == 404 and not self.message:
            return {"error": "NOT_FOUND"}
        return {"error": {"type": self.type, "message": self.message}}


class RateLimited(ApiProblem):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(429, "RATE_LIMIT_REACHED",
                         "Rate limit exceeded. Please try again later")
        self.retry_after_s = retry_after_s

    def document(self) -> dict[str, Any]:
        return {"errors": [{"type": self.type, "error": self.type, "message": self.message}]}


def not_found(message: str = "") -> ApiProblem:
    return ApiProblem(404, "NOT_FOUND", message)


def invalid(type_: str, message: str) -> ApiProblem:
    return ApiProblem(422, type_, message)
