"""Table rows built without reading their default factories' signatures again and again.

SQLModel builds a table row (`Contact(...)`) through pydantic's `FieldInfo.get_default`, which asks
on every call whether each default factory takes the validated data, by `inspect.signature`. For a
builtin factory (`dict`, `list`) that parses its text signature with `ast`: profiled under load, a
twentieth of the desktop's time went there, and its garbage only the cyclic collector frees
(pydantic issue 13376). The answer depends on the factory alone, so it is kept per factory here.
Remove this module once pydantic keeps the answer itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pydantic._internal import _fields

_asked: Callable[[Any], bool] = _fields.takes_validated_data_argument


@functools.lru_cache(maxsize=1024)
def _answer(factory: Any) -> bool:
    return bool(_asked(factory))


def takes_validated_data_argument(factory: Any) -> bool:
    try:
        return _answer(factory)
    except TypeError:  # an unhashable callable: ask every time, as pydantic does
        return bool(_asked(factory))


def install() -> None:
    """Put the remembering question in pydantic's place (once; again is harmless)."""
    _fields.takes_validated_data_argument = takes_validated_data_argument  # type: ignore[assignment]
