"""BuildKit support: protobuf message code, the trace decoder, progress rendering, the session.

Layer: a sibling of ``_streams``; modules here import the stdlib, the leaves
(``exceptions``) and each other. Nothing here is imported by ``import aiodocker``:
the public entry point :mod:`aiodocker.buildkit` imports it when a BuildKit
build is made, and the session module imports the optional ``h2`` dependency
(the ``aiodocker[buildkit]`` extra) only when a session is opened.
"""
