"""The magazine's use cases. Views and commands call these; they own the transaction."""


class ServiceError(Exception):
    """A use case refused: the message is safe to show to the person who asked."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    """The thing asked for does not exist (or may not be seen)."""


class Forbidden(ServiceError):
    """The person may see the thing but not do this to it."""
