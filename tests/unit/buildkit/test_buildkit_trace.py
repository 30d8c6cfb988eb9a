"""Decoding BuildKit's trace items into progress events, and errors naming the failed step."""

from __future__ import annotations

import base64

import pytest
from pbuild import log, status, trace_item, vertex, warning

from aiodocker._buildkit.trace import (
    LAST_LINES,
    BuildTrace,
    BuildWarning,
    ImageBuilt,
    LogLine,
    StatusChanged,
    VertexCached,
    VertexCompleted,
    VertexFailed,
    VertexStarted,
)
from aiodocker.exceptions import DockerStreamError

RUN = "sha256:" + "a" * 64
COPY = "sha256:" + "b" * 64


def test_each_vertex_transition_is_reported_once_though_buildkit_resends_the_vertex() -> None:
    trace = BuildTrace()
    assert trace.feed(trace_item(vertexes=(vertex(RUN, "[2/2] RUN make"),))) == []
    started = trace.feed(trace_item(vertexes=(vertex(RUN, "[2/2] RUN make", started=10.0),)))
    assert started == [VertexStarted(RUN, "[2/2] RUN make", 10.0)]
    again = trace.feed(trace_item(vertexes=(vertex(RUN, "[2/2] RUN make", started=10.0),)))
    assert again == []
    done = trace.feed(
        trace_item(vertexes=(vertex(RUN, "[2/2] RUN make", started=10.0, completed=12.5),))
    )
    assert done == [VertexCompleted(RUN, "[2/2] RUN make", 10.0, 12.5)]
    assert isinstance(done[0], VertexCompleted) and done[0].duration == pytest.approx(2.5)
    assert trace.feed(trace_item(vertexes=(vertex(RUN, "x", started=10.0, completed=13.0),))) == []


def test_cached_vertex_is_reported_as_cached_not_as_started() -> None:
    trace = BuildTrace()
    events = trace.feed(
        trace_item(vertexes=(vertex(COPY, "COPY . /", cached=True, started=1.0, completed=1.0),))
    )
    assert events == [VertexCached(COPY, "COPY . /")]


def test_statuses_logs_and_warnings_become_typed_events() -> None:
    trace = BuildTrace()
    events = trace.feed(
        trace_item(
            vertexes=(vertex(RUN, "RUN x", started=1.0),),
            statuses=(status(RUN, "extracting", name="extract", current=5, total=9, done=True),),
            logs=(log(RUN, b"hello\n", stream=2, at=1.5),),
            warnings=(warning(RUN, b"JSONArgsRecommended", b"use JSON", url="https://x"),),
        )
    )
    assert events == [
        VertexStarted(RUN, "RUN x", 1.0),
        StatusChanged(RUN, "extracting", "extract", 5, 9, True),
        LogLine(RUN, 2, b"hello\n", 1.5),
        BuildWarning(RUN, 1, "JSONArgsRecommended", ("use JSON",), "https://x"),
    ]


def test_image_id_item_is_recorded() -> None:
    trace = BuildTrace()
    assert trace.feed({"id": "moby.image.id", "aux": {"ID": "sha256:123"}}) == [
        ImageBuilt("sha256:123")
    ]
    assert trace.image_id == "sha256:123"


def test_other_items_bring_no_events() -> None:
    trace = BuildTrace()
    assert trace.feed({"stream": "Step 1/2"}) == []
    assert trace.feed(["not", "a", "dict"]) == []


@pytest.mark.parametrize("aux", ["***", base64.b64encode(b"\x0a\x05ab").decode(), 5])
def test_undecodable_trace_raises_stream_error(aux: object) -> None:
    with pytest.raises(DockerStreamError, match="undecodable BuildKit trace"):
        BuildTrace().feed({"id": "moby.buildkit.trace", "aux": aux})


def test_failure_names_the_step_and_ends_with_its_last_lines_skipping_cancelled_steps() -> None:
    trace = BuildTrace()
    other = "sha256:" + "c" * 64
    lines = b"".join(f"line {n}\n".encode() for n in range(LAST_LINES + 5))
    events = trace.feed(
        trace_item(
            vertexes=(
                vertex(
                    other,
                    "[b 1/1] RUN sleep 9",
                    started=1.0,
                    completed=2.0,
                    error="context canceled",
                ),
                vertex(RUN, "[a 2/3] RUN ./build.sh", started=1.0),
            ),
            logs=(log(RUN, lines[:7]), log(RUN, lines[7:] + b"partial")),
        )
    )
    assert VertexFailed(other, "[b 1/1] RUN sleep 9", "context canceled") in events
    trace.feed(
        trace_item(vertexes=(vertex(RUN, "", started=1.0, completed=3.0, error="exit code: 2"),))
    )
    daemon_error = DockerStreamError("exit code: 2", error_detail={"message": "exit code: 2"})
    explained = trace.explain(daemon_error)
    assert explained.message.startswith('build step "[a 2/3] RUN ./build.sh" failed: exit code: 2')
    tail = explained.message.splitlines()[-LAST_LINES:]
    assert tail == [f"  line {n}" for n in range(6, LAST_LINES + 5)] + ["  partial"]
    assert "line 4" not in explained.message
    assert explained.error_detail == {"message": "exit code: 2"}


def test_explain_without_a_failed_step_keeps_the_daemon_error() -> None:
    error = DockerStreamError("no space left on device")
    assert BuildTrace().explain(error) is error
