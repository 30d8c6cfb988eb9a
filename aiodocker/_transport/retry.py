"""Whether a request whose connection failed is sent again: one pure function.

Layer: ``_transport``. Imports the stdlib only. The pool (``pool.py``) asks
:func:`decide_retry` after a connection error and follows its answer; the
decision's table is tested on its own (``tests/unit/transport/test_retry_decision.py``)
and under mutation testing (``scripts/mutation.sh``).
"""

from __future__ import annotations

from typing import Final, NamedTuple

# Methods that may be sent again after a reused connection died before any byte of
# the answer came back (RFC 9110, 9.2.2 allows it for idempotent requests only). PUT
# and DELETE are idempotent in HTTP's sense, but a resent DELETE whose first copy
# worked answers 404 and a resent PUT of an archive extracts it twice: only reads.
RETRY_METHODS: Final = frozenset({"GET", "HEAD"})


class RetryDecision(NamedTuple):
    """Whether a request whose connection failed is sent again, and why.

    Attributes:
        retry: send it again on another connection.
        reason: why (or why not), for the pool's log.
        maybe_applied: the daemon may have acted on it though no answer came:
            the error says so.
    """

    retry: bool
    reason: str
    maybe_applied: bool


def decide_retry(method: str, *, replayable: bool, reused: bool, answered: bool) -> RetryDecision:
    """Decide whether a request that failed with a connection error is resent.

    Pure: the answer depends on these inputs only. A request is resent when
    the connection was a reused keep-alive one (the daemon may have closed it
    while idle), no byte of the answer arrived, the method only reads
    (``RETRY_METHODS``), and its body can be sent again (not streamed from the
    caller's iterator). A new connection is never retried, so the attempts are
    bounded by the idle connections plus one.

    Args:
        method: the request's method.
        replayable: the request's body (if any) can be sent again.
        reused: the request went out on a connection taken from the idle pool.
        answered: a byte of the answer arrived before the failure.
    """
    reads_only = method in RETRY_METHODS
    maybe_applied = not answered and not reads_only
    if not reused:
        return RetryDecision(False, "not retried: the connection was new", maybe_applied)
    if answered:
        return RetryDecision(False, "not retried: part of the answer came", maybe_applied)
    if not replayable:
        return RetryDecision(False, "not retried: its body was streamed", maybe_applied)
    if not reads_only:
        allowed = "/".join(sorted(RETRY_METHODS))
        return RetryDecision(False, f"not retried: only {allowed} are resent", maybe_applied)
    return RetryDecision(True, "retrying on a new connection", False)
