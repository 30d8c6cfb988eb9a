"""Python-version shims. Leaf module: imports nothing from the package.

``timeout`` is ``asyncio.timeout`` on Python >= 3.11 and ``async_timeout.timeout``
before; ``TimeoutError`` is the exception both raise.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from asyncio import timeout
else:  # pragma: no cover - exercised on Python 3.10 only
    from async_timeout import timeout

from asyncio import TimeoutError  # builtin TimeoutError on 3.11+

__all__ = ["TimeoutError", "timeout"]
