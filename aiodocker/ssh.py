"""Compatibility facade: keeps aiodocker 0.27's import path ``aiodocker.ssh``.

``Docker(url="ssh://...")`` does not need ``SSHConnector``: it runs ``docker system
dial-stdio`` through ssh itself. The connector (an ssh ``-L`` tunnel for code that
builds its own aiohttp session) lives in ``aiodocker._transport.aiohttp_ssh``.
"""

from __future__ import annotations

from ._transport.aiohttp_ssh import SSHConnector

__all__ = ("SSHConnector",)
