"""BuildKit support: protobuf message code, the trace decoder, progress rendering, the session.

Layer: a sibling of ``_streams``; modules here import the stdlib, the leaves
(``exceptions``) and each other. Nothing here is imported by ``import aiodocker``:
the public entry point :mod:`aiodocker.buildkit` imports it when a BuildKit
build is made; ``h2`` (a core dependency) is imported only when a session or
a ``POST /grpc`` connection opens, and ``cryptography`` only for ssh key files.
"""
