"""Core layer: URL building, query encoding, timeouts, errors, version negotiation.

Imports ``_transport`` and the leaves (``exceptions``, ``types``) only.
"""
