"""Text from a request made safe for one line: of a log, or of an e-mail header."""

from __future__ import annotations

import re

# C0 and C1 controls (newline, carriage return, escape, ...) and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_control(text: str) -> str:
    """`text` with every control character written as its escape (`\\n`, `\\x1b`, `\\u2028`), so a
    client cannot start a forged line (`%0a` in a path) or drive a terminal from the logs."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def one_line(text: str) -> str:
    """`text` with every control character and line separator folded to a space (runs of blanks to one),
    so it fits in one header line: a CR, LF, U+2028 or vertical tab in a name never breaks a message."""
    return " ".join(_CONTROL.sub(" ", text).split())
