"""Domain errors raised by services; web, API and CLI translate them alike."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: ``message`` is safe to show to the user who caused it."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    """Input is wrong; ``errors`` maps field name → list of messages."""

    def __init__(self, errors: dict[str, list] | str, *, field: str | None = None):
        if isinstance(errors, dict):
            self.errors = errors
            first = next(iter(errors.values()))[0] if errors else ""
            super().__init__(first)
        else:
            self.errors = {field or "": [errors]}
            super().__init__(errors, field=field)

    def one_line(self) -> str:
        parts = []
        for name, msgs in self.errors.items():
            for m in msgs:
                parts.append(f"{name}: {m}" if name else str(m))
        return "; ".join(parts)


class PermissionDenied(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """The action clashes with the current state (duplicate, full, closed, …)."""
