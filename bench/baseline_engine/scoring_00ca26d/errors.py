# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/errors.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""The one error the engine raises for bad input."""


class InputError(ValueError):
    """Invalid input; the message names the event index and field (conformance FORMAT)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)
