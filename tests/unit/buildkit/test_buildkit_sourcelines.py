"""Locating a failed BuildKit vertex in the Dockerfile, and buildx's layout of its lines."""

from __future__ import annotations

from aiodocker._buildkit.sourcelines import locate, parse_instructions, render, source_lines

MULTI = (
    "# syntax=docker/dockerfile:1\n"  # 1
    "FROM busybox AS build\n"  # 2
    "ENV A=1\n"  # 3
    "RUN echo one && \\\n"  # 4
    "    # a comment inside the instruction\n"  # 5
    "\n"  # 6
    "    echo two\n"  # 7
    "RUN <<EOF\n"  # 8
    "echo in heredoc\n"  # 9
    "EOF\n"  # 10
    "FROM busybox\n"  # 11
    "WORKDIR /app\n"  # 12
    "COPY --from=build /a /b\n"  # 13
    "RUN echo one &&     echo two\n"  # 14: the same text as lines 4-7
)


def test_instructions_join_continuations_and_keep_heredoc_bodies() -> None:
    found = [(i.start, i.end, i.text) for i in parse_instructions(MULTI)]
    assert found[2] == (4, 7, "RUN echo one &&     echo two")
    assert found[3][:2] == (8, 10)
    assert found[4][:2] == (11, 11)


def test_the_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM x\nRUN echo a `\n    b\nRUN c:\\path\\\n"
    found = [(i.start, i.end, i.text) for i in parse_instructions(text)]
    assert found[1] == (3, 4, "RUN echo a     b")
    assert found[2] == (5, 5, "RUN c:\\path\\")


def test_a_vertex_is_found_by_stage_and_step_when_its_text_is_ambiguous() -> None:
    first = locate("[build 2/3] RUN echo one &&     echo two", MULTI)
    assert first is not None and (first.start, first.end) == (4, 7)
    last = locate("[stage-1 4/4] RUN echo one &&     echo two", MULTI)
    assert last is not None and (last.start, last.end) == (14, 14)
    workdir = locate("[stage-1 2/4] WORKDIR /app", MULTI)
    assert workdir is not None and workdir.start == 12
    assert locate("[internal] load metadata for docker.io/library/busybox", MULTI) is None
    assert locate("not a step", MULTI) is None


def test_render_pads_like_buildx_at_the_edges_of_the_file() -> None:
    text = "FROM x\nRUN a\nRUN b\n"
    assert render("Dockerfile", text, 1, 1).splitlines() == [
        "Dockerfile:1",
        "--------------------",
        "   1 | >>> FROM x",
        "   2 |     RUN a",
        "   3 |     RUN b",
        "--------------------",
    ]
    assert source_lines("Dockerfile", text, "[9/9] RUN zzz") == ""
