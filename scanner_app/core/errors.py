"""Domain errors. Each carries the seed's machine-readable code and an HTTP status."""

from __future__ import annotations


class TickitzError(Exception):
    code = "internal_error"
    status = 500

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(TickitzError):
    code = "validation_error"
    status = 400


class NotFound(TickitzError):
    code = "not_found"
    status = 404


class Conflict(TickitzError):
    code = "conflict"
    status = 409


class SoldOut(Conflict):
    code = "sold_out"
