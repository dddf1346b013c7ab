"""Work around PySide6 6.12.0 dropping references to None, True and False.

On Python 3.11 (where these singletons are not immortal yet, PEP 683) PySide6 6.12.0
decrements ``None``'s reference count on every call of a method returning void
(``setText``, ``update``, ``stop``...) and ``True``/``False``'s on every emit of a
``Signal(bool)``. A GUI makes thousands of such calls a minute, so the process dies
with "none_dealloc" / "bool_dealloc" after a while or at exit. PySide6 6.11.x and
Python >= 3.12 are unaffected; the real fix is the ``PySide6<6.12`` pin.

Until then we give the three singletons so many references that the leak cannot
reach zero in a process's lifetime: what Python 3.12 does by making them immortal.
"""

from __future__ import annotations

import ctypes
import sys

# 2**40 extra references: at a million leaked references per second, 12 days of headroom.
HEADROOM = 1 << 40
_SINGLETONS = (None, True, False)


def refcount_leaks(version: str, python: tuple[int, int]) -> bool:
    """Whether this PySide6 version leaks singleton references on this Python."""
    return version.startswith("6.12.0") and python < (3, 12)


def pin_singletons() -> bool:
    """Make None/True/False effectively immortal if the running PySide6 needs it."""
    import PySide6

    if not refcount_leaks(PySide6.__version__, sys.version_info[:2]):
        return False
    for singleton in _SINGLETONS:
        refcnt = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt is the first field
        if refcnt.value < HEADROOM:
            refcnt.value += HEADROOM
    return True
