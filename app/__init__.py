"""upr-match: the open repository of technical cooperation for implementing UPR recommendations."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("upr-match")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0"
