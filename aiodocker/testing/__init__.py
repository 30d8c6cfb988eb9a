"""Test doubles for code that uses aiodocker: a mock transport and an in-memory engine.

``Docker(transport=MockTransport(handler))`` answers each request with the
caller's function, as httpx's ``MockTransport`` does;
``Docker(transport=FakeEngine(images=[...]))`` talks to a stateful in-memory
Docker Engine. ``import aiodocker`` never imports this package.
"""

from __future__ import annotations

from ._engine import FakeEngine
from ._mock import MockTransport, Request, Response, frame
from ._process import Process, busybox

__all__ = ["FakeEngine", "MockTransport", "Process", "Request", "Response", "busybox", "frame"]
