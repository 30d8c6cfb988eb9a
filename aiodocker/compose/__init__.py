"""Compose projects on asyncio: the model (load, validate, normalise) and the runtime.

The runtime lives in :mod:`aiodocker.compose.project` (``ComposeProject``); its
private helpers are the ``_runtime_*`` modules.
"""
