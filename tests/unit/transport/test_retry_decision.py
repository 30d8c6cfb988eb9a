"""The pool's retry decision, as a table: every input that matters, and what it gives."""

from __future__ import annotations

import itertools

import pytest

from aiodocker._transport.retry import RETRY_METHODS, decide_retry

# method, replayable, reused, answered -> retry, maybe_applied, reason holds
TABLE = [
    ("GET", True, True, False, True, False, "retrying"),
    ("HEAD", True, True, False, True, False, "retrying"),
    ("GET", True, False, False, False, False, "connection was new"),
    ("GET", True, True, True, False, False, "part of the answer came"),
    ("GET", False, True, False, False, False, "body was streamed"),
    ("POST", True, True, False, False, True, "only GET/HEAD are resent"),
    ("PUT", True, True, False, False, True, "only GET/HEAD are resent"),
    ("DELETE", True, True, False, False, True, "only GET/HEAD are resent"),
    ("POST", True, False, False, False, True, "connection was new"),
    ("POST", True, True, True, False, False, "part of the answer came"),
    ("POST", False, True, False, False, True, "body was streamed"),
    ("PUT", False, False, True, False, False, "connection was new"),
    ("HEAD", True, False, True, False, False, "connection was new"),
]


@pytest.mark.parametrize(
    ("method", "replayable", "reused", "answered", "retry", "maybe_applied", "why"), TABLE
)
def test_the_decision_table(
    method: str,
    replayable: bool,
    reused: bool,
    answered: bool,
    retry: bool,
    maybe_applied: bool,
    why: str,
) -> None:
    decision = decide_retry(method, replayable=replayable, reused=reused, answered=answered)
    assert (decision.retry, decision.maybe_applied) == (retry, maybe_applied)
    assert why in decision.reason


@pytest.mark.parametrize(
    ("method", "replayable", "reused", "answered"),
    itertools.product(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"], *[[True, False]] * 3),
)
def test_only_an_unanswered_replayable_read_on_a_reused_connection_is_resent(
    method: str, replayable: bool, reused: bool, answered: bool
) -> None:
    decision = decide_retry(method, replayable=replayable, reused=reused, answered=answered)
    assert decision.retry == (method in RETRY_METHODS and replayable and reused and not answered)
    # the daemon may have acted on a write it never answered: the error must say so
    assert decision.maybe_applied == (method not in RETRY_METHODS and not answered)
    assert decide_retry(method, replayable=replayable, reused=reused, answered=answered) == decision
