"""The library's own exceptions that more than one module raises or catches (importing this
never loads the compiled extension)."""


class TrainingError(RuntimeError):
    """Training cannot go on (empty corpus or vocabulary, non-finite loss, bad settings, a
    checkpoint that cannot be resumed from)."""


class LostRankError(TrainingError):
    """A distributed run lost one of its ranks (it died, was stopped, or hung past the timeout):
    every rank stops, and rank 0's last checkpoint is kept for --resume."""
