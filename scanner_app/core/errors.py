"""Domain errors. Each carries the seed's machine-readable code and an HTTP status.

* TickitzError - internal_error, 500 (base; ``message`` is plain words, ``field`` optional)
    * ValidationError - validation_error, 400: bad input, nothing changed
    * NotFound - not_found, 404
    * Conflict - conflict, 409 (an id already used, an undo twice)
        * SoldOut - sold_out, 409
    * db.SchemaTooNew - the database comes from a newer version of the app

Not errors but verdicts: tokens.TokenRejected carries a scan's rejection reason (§4)
and becomes a recorded ScanResult, never an HTTP error.
"""

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
