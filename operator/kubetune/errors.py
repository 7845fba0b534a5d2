"""The one error type for invalid user input: it always names the field that is wrong."""

from __future__ import annotations


class SpecError(ValueError):
    """Invalid TuningJob input, with the dotted path of the offending field.

    The path is built from the inside out: a parameter raises ``SpecError("min", ...)`` and the
    spec parser re-raises it ``under("spec.hyperparameterRanges.continuous[0]")`` so the user sees
    ``spec.hyperparameterRanges.continuous[0].min: must be below max``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def under(self, prefix: str) -> SpecError:
        """The same error with ``prefix`` put in front of its field path."""
        if not self.field:
            return SpecError(prefix, self.message)
        joiner = "" if self.field.startswith("[") else "."
        return SpecError(f"{prefix}{joiner}{self.field}", self.message)
