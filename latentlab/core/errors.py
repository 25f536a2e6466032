"""One family of exceptions, so the CLI and the GUI can show any of them as a one-line message."""


class LatentlabError(Exception):
    """Base for every error a user can act on; the first line of the message stands alone."""


class DataError(LatentlabError):
    """A dataset file is missing, corrupt, or cannot be fetched."""


class ModelFileError(LatentlabError):
    """A model file cannot be read, or its contents are not a valid latentlab model."""


class TrainingError(LatentlabError):
    """Training could not go on (for example, the loss became NaN)."""
