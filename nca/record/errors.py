"""The one error type of `nca record`: an option or path that cannot work."""


class RecordError(ValueError):
    """An option or path that cannot work; the message is one line for the user."""
