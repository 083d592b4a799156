"""Find the LaTeX in catalog text (inline math, macros) in one linear pass, for pages and mail.

A regex such as `\\$\\$.+?\\$\\$|\\$[^$\\n]+?\\$|\\\\\\(.+?\\\\\\)` finds the same spans, but each
opening delimiter without a closing one scans to the end of the text, so a 40 KB title of `\\(`
repeated took seconds (holding the GIL). Here each "where is the next closing delimiter" is
asked once per delimiter and remembered, so the whole text is read a fixed number of times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Span = tuple[int, int]

# Where a math span can start, while closing delimiters of each kind remain ($ or \)):
# everything else is skipped at C speed.
_MATH_OPENERS = {
    (True, True): re.compile(r"\$|\\\("),
    (True, False): re.compile(r"\$"),
    (False, True): re.compile(r"\\\("),
}
_LATEX_OPENER = re.compile(r"[$\\]")
# A text-mode macro with its brace arguments (\emph{x}, \mathcal{O}), or an escape (\%).
# Linear: every alternative stops at the next brace or character it cannot take.
_MACRO = re.compile(r"\\[A-Za-z]+\*?(?:\{[^{}]*\})*|\\.")


class _NextFinder:
    """`find(needle, start)` for start positions that only grow: each needle's last answer is
    kept, and reused while it is still ahead of `start` (or while there is none at all)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._last: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, start: int) -> int:
        last = self._last.get(needle)
        if last is not None:
            asked, found = last
            if start >= asked and (found == -1 or found >= start):
                return found
        found = self.text.find(needle, start)
        self._last[needle] = (start, found)
        return found


def _math_end(text: str, i: int, finder: _NextFinder) -> int | None:
    """Where the math starting at `i` ends ($$...$$, then $...$ on one line, then \\(...\\)),
    or None when none starts there: the regex's alternatives, tried in its order."""
    if text.startswith("$$", i):
        close = finder.find("$$", i + 3)
        if close != -1:
            return close + 2
    if text.startswith("$", i):
        close = finder.find("$", i + 1)
        newline = finder.find("\n", i + 1)
        if close > i + 1 and (newline == -1 or newline > close):
            return close + 1
    elif text.startswith("\\(", i):
        close = finder.find("\\)", i + 3)
        if close != -1:
            return close + 2
    return None


def math_spans(text: str) -> list[Span]:
    """(start, end) of each inline math span ($$...$$, $...$, \\(...\\)), leftmost first and
    never overlapping: what KaTeX renders in the browser."""
    spans: list[Span] = []
    finder = _NextFinder(text)
    position = 0
    closers = (True, True)  # whether a "$" and a "\)" may still close a span
    while (opener := _MATH_OPENERS[closers].search(text, position)) is not None:
        start = opener.start()
        end = _math_end(text, start, finder)
        if end is not None:
            spans.append((start, end))
            position = end
            continue
        position = start + 1
        # No closing delimiter left: openers of that kind cannot match any more. (Asked from
        # where _math_end asks, so each needle's start only grows.)
        closers = (
            closers[0] and finder.find("$", start + 1) != -1,
            closers[1] and finder.find("\\)", start + 3) != -1,
        )
        if closers == (False, False):
            break
    return spans


def latex_spans(text: str) -> Iterator[Span]:
    """(start, end) of every bit of LaTeX in `text`, leftmost first: math spans (as math_spans
    finds them) and, outside math, macros with their brace arguments and escapes (\\%)."""
    finder = _NextFinder(text)
    position = 0
    while (opener := _LATEX_OPENER.search(text, position)) is not None:
        start = opener.start()
        end = _math_end(text, start, finder)
        if end is not None:
            yield start, end
            position = end
            continue
        macro = _MACRO.match(text, start) if text[start] == "\\" else None
        if macro is None:
            position = start + 1
        else:
            yield start, macro.end()
            position = macro.end()
