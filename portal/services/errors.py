"""Errors users see: in Chinese, naming the field, so a form can show it beside the input."""

from __future__ import annotations


class ServiceError(ValueError):
    """A refused request. ``field`` names the input; ``message`` is for the user (Chinese)."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        self.field = field
        self.message = message
        self.code = code
        super().__init__(f"{field}: {message}")


class NotFound(ServiceError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message, code="not_found")
