"""Cloud-specific errors on top of the shared hierarchy."""

from flex_emulator.shared.errors import Conflict


class AssignmentConflict(Conflict):
    """A credit movement the rules do not allow right now (409 unless said otherwise)."""
