"""A JSON list of objects read poll after poll, each item parsed only when its bytes change.

A controller lists every participant on every poll (a 10,000-item list is ~1 MB) and
only a few items change between two polls. ``ListReader.parse`` cuts the body into
its items' bytes at the separators between objects (``},{``, whatever the blanks around the
comma), and when most of them are bytes of the last answer, an item whose bytes are exactly
those of the item at its place in the last answer (when items came or went: of any item of
it) is the very object parsed then (not a copy: treat it as read-only), and the others are
parsed alone. The usual poll, the same items with a few changed, so costs one ``memcmp`` per
item and no hashing. When most are new (the first answer, or a list whose every item changes
each poll), the body is parsed whole, as before.
Later steps (``profiles.base.participant_dicts``, ``deltas.diff_participants``) then
find the unchanged items by identity instead of comparing them.

Why the cut is safe: if every piece, braces restored, is a JSON object, then the body is
``[`` those objects joined by commas ``]``, which JSON reads as exactly that list of those
objects, whatever the pieces contain. A cut inside a string or inside a nested object
leaves a piece that is not a whole object, which orjson refuses; then (and for anything
but a non-empty list of objects, or a piece ``parse_json`` would not give to orjson) the
body is parsed whole by ``parse_json``, as it always was, and its items are not reused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import compress, repeat
from operator import is_, ne
from typing import Any

import orjson

from migration_tui.sources.http import _DIGITS, _LONG_DIGITS, parse_json

_BLANKS = b" \t\n\r"  # JSON's whitespace (``bytes.strip()`` would also take \x0b and \x0c)
#: The object of an item seen in the last answer, not parsed alone (that answer was parsed whole).
_UNPARSED: Any = object()
_SEPARATOR = re.compile(rb"\}[ \t\n\r]*,[ \t\n\r]*\{")


class ListReader:
    """One endpoint's answers, read as ``parse_json`` reads them; unchanged items are last time's objects."""

    def __init__(self) -> None:
        self._body: bytes | None = None
        self._value: Any = None
        #: The last answer's items' bytes (braces stripped), in order; None if it was not cut.
        self._pieces: list[bytes] | None = None
        #: The object parsed from each of those pieces alone, one for one; None when that answer
        #: was parsed whole (most of its items were new: its objects are not known to be the pieces').
        self._objects: list[Any] | None = None

    def parse(self, path: str, body: bytes) -> Any:
        """The JSON value of ``body`` (``FetchError`` as ``parse_json`` raises it)."""
        if body == self._body:
            return self._value
        self._body = self._value = None
        pieces = _pieces(body)
        value = None
        if pieces is not None and self._pieces is not None:
            value = self._reuse(pieces, self._pieces, self._objects)
        if value is None:
            # Mostly new items (or the first answer): one parse of the whole body is cheaper than
            # one per item. Their bytes are kept, so that a list that then holds still is read
            # item by item from the next answer on.
            self._objects = None
            value = parse_json(path, body)
        self._pieces = pieces
        self._body, self._value = body, value
        return value

    def _reuse(self, pieces: list[bytes], last: list[bytes], objects: list[Any] | None) -> list[Any] | None:
        """The items, those whose bytes are the last answer's its objects, the others parsed alone;
        None (parse the whole body) if most are new, if a new piece is not an object, or if one
        holds 19 digits in a row (maybe an integer past 64 bits, which ``parse_json`` reads with json)."""
        count = len(pieces)
        if count == len(last):  # the usual poll: the same items, a few changed in place
            new: Iterable[int] = list(compress(range(count), map(ne, pieces, last)))  # C: memcmp
            if 2 * len(new) > count:
                return None
            items: list[Any] = objects[:] if objects is not None else [None] * count
            if objects is None:
                new = range(count)
        else:  # items came or went: look each piece up among the last answer's
            known = dict.fromkeys(last, _UNPARSED) if objects is None else dict(zip(last, objects, strict=True))
            items = list(map(known.get, pieces))  # None: not in the last answer
            if 2 * items.count(None) > count:
                return None
            indices = range(count)
            new = [
                *compress(indices, map(is_, items, repeat(None))),
                *compress(indices, map(is_, items, repeat(_UNPARSED))),
            ]
        if _LONG_DIGITS in b",".join([pieces[index] for index in new]).translate(_DIGITS):
            return None
        for index in new:
            try:
                items[index] = orjson.loads(b"{" + pieces[index] + b"}")
            except orjson.JSONDecodeError:
                return None
        self._objects = items
        return items


def _bracketed(body: bytes, start: int, end: int, opening: bytes, closing: bytes) -> tuple[int, int] | None:
    """``body[start:end]`` without blanks at either end, if it begins with ``opening`` and ends
    with ``closing`` (two bytes at least): its new (start, end); else None."""
    while start < end and body[start] in _BLANKS:
        start += 1
    while end > start and body[end - 1] in _BLANKS:
        end -= 1
    if body[start : start + 1] != opening or body[end - 1 : end] != closing or end - start < 2:
        return None
    return start, end


def _pieces(body: bytes) -> list[bytes] | None:
    """The bytes of each object of a list of objects, outer braces stripped; None if it does not look like one."""
    outer = _bracketed(body, 0, len(body), b"[", b"]")
    if outer is None:
        return None
    span = _bracketed(body, outer[0] + 1, outer[1] - 1, b"{", b"}")
    if span is None:
        return None
    start, end = span
    first = _SEPARATOR.search(body, start, end)
    inner = body[start + 1 : end - 1]  # the one copy
    if first is None:
        return [inner]
    return inner.split(first.group())  # the usual case: every separator spelt as the first one
