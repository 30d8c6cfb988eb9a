"""Compatibility facade: keeps aiodocker 0.27's import path ``aiodocker.utils``.

The helpers live in ``_core`` (``bodies``, ``request``, ``build_context``,
``credentials``) and, those only 0.27 offers, in ``_legacy.bodies``; package code
imports them from there, never from here.
"""

from __future__ import annotations

from ._core.bodies import clean_map, clean_networks, format_env, identical
from ._core.build_context import mktar_from_dockerfile
from ._core.credentials import compose_auth_header
from ._core.request import httpize
from ._legacy.bodies import clean_filters, human_bool, parse_content_type, parse_result

__all__ = (
    "clean_filters",
    "clean_map",
    "clean_networks",
    "compose_auth_header",
    "format_env",
    "httpize",
    "human_bool",
    "identical",
    "mktar_from_dockerfile",
    "parse_content_type",
    "parse_result",
)

