"""The plain (buildx --progress=plain) and tty displays of BuildKit events."""

from __future__ import annotations

from aiodocker._buildkit.render import PlainRenderer, TtyDisplay, format_size
from aiodocker._buildkit.trace import (
    BuildWarning,
    LogLine,
    StatusChanged,
    VertexCached,
    VertexCompleted,
    VertexFailed,
    VertexStarted,
)


def render_all(events: list[object]) -> list[str]:
    renderer = PlainRenderer()
    lines: list[str] = []
    for event in events:
        lines += renderer.render(event)  # type: ignore[arg-type]
    return lines


def test_plain_output_numbers_steps_and_prefixes_logs_with_seconds_since_start() -> None:
    lines = render_all(
        [
            VertexCached("d1", "[1/3] FROM busybox"),
            VertexStarted("d2", "[2/3] RUN make", 100.0),
            LogLine("d2", 1, b"compiling\nlin", 100.25),
            LogLine("d2", 1, b"king\n", 101.5),
            LogLine("d2", 2, b"no newline", 101.75),
            StatusChanged("d2", "x", "exporting layers", 2_500_000, 0, True),
            VertexCompleted("d2", "[2/3] RUN make", 100.0, 102.04),
            VertexStarted("d3", "[3/3] RUN test", 103.0),
            VertexFailed("d3", "[3/3] RUN test", "exit code: 1"),
            BuildWarning("d3", 1, "FromAsCasing", ("'as' and 'FROM' differ",), ""),
        ]
    )
    assert lines == [
        "#1 [1/3] FROM busybox",
        "#1 CACHED",
        "",
        "#2 [2/3] RUN make",
        "#2 0.250 compiling",
        "#2 1.500 linking",
        "#2 exporting layers 2.50MB done",
        "#2 no newline",
        "#2 DONE 2.0s",
        "",
        "#3 [3/3] RUN test",
        "#3 ERROR: exit code: 1",
        "",
        "WARNING: FromAsCasing",
        "  'as' and 'FROM' differ",
    ]


def test_format_size() -> None:
    assert format_size(92) == "92B"
    assert format_size(1234) == "1.23kB"
    assert format_size(5_000_000_000) == "5.00GB"


def test_tty_frames_redraw_in_place_and_show_running_output() -> None:
    display = TtyDisplay()
    display.update(VertexStarted("d1", "[1/2] RUN make", 1.0))
    display.update(LogLine("d1", 1, b"step one\nstep two\n", 1.0))
    first = display.frame()
    assert first.startswith("\x1b[J[+] Building")  # nothing drawn before: no cursor move
    assert " => [1/2] RUN make  " in first and " => > step two" in first
    display.update(VertexCompleted("d1", "[1/2] RUN make", 1.0, 2.0))
    display.update(VertexCached("d2", "[2/2] COPY . /"))
    second = display.frame(final=True)
    assert second.startswith(f"\x1b[{first.count(chr(10))}F")
    assert "(2/2)" in second and "CACHED" in second and "step two" not in second
