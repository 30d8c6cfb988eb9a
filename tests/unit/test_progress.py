"""Unit tests of aiodocker.progress: the layer aggregate and the pull command line."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from aiodocker.exceptions import DockerStreamError
from aiodocker.progress import Progress, run_pull_cli

MB = 1_000_000

# A pull as the daemon reports it: one layer already present, two downloaded.
PULL_ITEMS: list[dict[str, Any]] = [
    {"status": "Pulling from aiodocker-sample", "id": "v1"},
    {"status": "Already exists", "progressDetail": {}, "id": "base"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "big"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "small"},
    {"status": "Waiting", "progressDetail": {}, "id": "small"},
    {"status": "Downloading", "progressDetail": {"current": 2 * MB, "total": 20 * MB}, "id": "big"},
    {
        "status": "Downloading",
        "progressDetail": {"current": 10 * MB, "total": 20 * MB},
        "id": "big",
    },
    {"status": "Downloading", "progressDetail": {"current": 194, "total": 194}, "id": "small"},
    {"status": "Verifying Checksum", "progressDetail": {}, "id": "small"},
    {"status": "Download complete", "progressDetail": {}, "id": "small"},
    {
        "status": "Downloading",
        "progressDetail": {"current": 20 * MB, "total": 20 * MB},
        "id": "big",
    },
    {"status": "Verifying Checksum", "progressDetail": {}, "id": "big"},
    {"status": "Download complete", "progressDetail": {}, "id": "big"},
    {"status": "Extracting", "progressDetail": {"current": 5 * MB, "total": 20 * MB}, "id": "big"},
    {"status": "Extracting", "progressDetail": {"current": 20 * MB, "total": 20 * MB}, "id": "big"},
    {"status": "Pull complete", "progressDetail": {}, "id": "big"},
    {"status": "Extracting", "progressDetail": {"current": 194, "total": 194}, "id": "small"},
    {"status": "Pull complete", "progressDetail": {}, "id": "small"},
    {"status": "Digest: sha256:" + "a" * 64},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/aiodocker-sample:v1"},
]

PUSH_ITEMS: list[dict[str, Any]] = [
    {"status": "The push refers to repository [127.0.0.1:5000/aiodocker-sample]"},
    {"status": "Preparing", "progressDetail": {}, "id": "l1"},
    {"status": "Preparing", "progressDetail": {}, "id": "l2"},
    {"status": "Preparing", "progressDetail": {}, "id": "l3"},
    # the daemon reports more bytes than the total for tiny layers
    {"status": "Pushing", "progressDetail": {"current": 512, "total": 99}, "id": "l1"},
    {"status": "Pushing", "progressDetail": {"current": 1 * MB, "total": 4 * MB}, "id": "l2"},
    {"status": "Layer already exists", "progressDetail": {}, "id": "l3"},
    {"status": "Pushed", "progressDetail": {}, "id": "l1"},
    {"status": "Pushing", "progressDetail": {"current": 4 * MB, "total": 4 * MB}, "id": "l2"},
    {"status": "Pushed", "progressDetail": {}, "id": "l2"},
    {"status": "v1: digest: sha256:" + "b" * 64 + " size: 947"},
    {"progressDetail": {}, "aux": {"Tag": "v1", "Digest": "sha256:" + "b" * 64, "Size": 947}},
]

LOAD_ITEMS: list[dict[str, Any]] = [
    {"status": "Loading layer", "progressDetail": {"current": 1 * MB, "total": 8 * MB}, "id": "x"},
    {"status": "Loading layer", "progressDetail": {"current": 8 * MB, "total": 8 * MB}, "id": "x"},
    {"status": "Loading layer", "progressDetail": {"current": 2048, "total": 2048}, "id": "y"},
    {"stream": "Loaded image: 127.0.0.1:5000/aiodocker-sample:v1\n"},
]


def fractions_of(items: Iterable[dict[str, Any]], progress: Progress) -> list[float]:
    seen = []
    for item in items:
        progress.feed(item)
        seen.append(progress.fraction)
    return seen


def assert_monotonic(values: list[float]) -> None:
    assert all(b >= a for a, b in zip(values, values[1:], strict=False)), values


async def aiter_items(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def test_pull_fraction_never_decreases_and_stays_below_one_until_finished() -> None:
    progress = Progress()
    seen = fractions_of(PULL_ITEMS, progress)
    assert_monotonic(seen)
    assert 0.0 < seen[7] < 1.0
    assert max(seen) < 1.0
    assert progress.percent < 100
    progress.finish()
    assert progress.fraction == 1.0
    assert progress.percent == 100


def test_pull_layer_states_include_already_exists_and_pull_complete() -> None:
    progress = Progress()
    fractions_of(PULL_ITEMS, progress)
    assert set(progress.layers) == {"base", "big", "small"}
    assert progress.layers["base"].status == "Already exists"
    assert progress.layers["base"].done
    assert progress.layers["big"].status == "Pull complete"
    assert progress.layers_done == 3


def test_pull_header_line_is_a_message_not_a_layer() -> None:
    progress = Progress()
    fractions_of(PULL_ITEMS, progress)
    assert "v1" not in progress.layers
    assert progress.messages[0] == "Pulling from aiodocker-sample"
    assert progress.messages[-1].startswith("Status: Downloaded newer image")


def test_pull_bytes_done_and_total_count_downloaded_layers() -> None:
    progress = Progress()
    for item in PULL_ITEMS[:7]:
        progress.feed(item)
    assert progress.bytes_total == 20 * MB
    assert progress.bytes_done == 10 * MB
    for item in PULL_ITEMS[7:]:
        progress.feed(item)
    assert progress.bytes_total == 20 * MB + 194
    assert progress.bytes_done == progress.bytes_total


def test_extraction_counts_after_download_within_a_layer() -> None:
    progress = Progress()
    fractions_of(PULL_ITEMS[:13], progress)
    downloaded = progress.layers["big"].fraction
    progress.feed(PULL_ITEMS[13])
    assert progress.layers["big"].fraction > downloaded
    assert progress.layers["big"].bytes_done == 20 * MB


def test_push_states_and_overshooting_counts_are_clamped() -> None:
    progress = Progress()
    seen = fractions_of(PUSH_ITEMS, progress)
    assert_monotonic(seen)
    assert progress.layers["l1"].fraction == 1.0
    assert progress.layers["l3"].status == "Layer already exists"
    assert progress.layers["l3"].done
    assert progress.layers["l2"].status == "Pushed"
    assert all(0.0 <= f < 1.0 for f in seen)


def test_load_layers_finish_when_their_bytes_are_in() -> None:
    progress = Progress()
    seen = fractions_of(LOAD_ITEMS, progress)
    assert_monotonic(seen)
    assert progress.layers["x"].done and progress.layers["y"].done
    assert progress.bytes_done == progress.bytes_total == 8 * MB + 2048


def test_late_announced_layer_cannot_move_the_fraction_back() -> None:
    progress = Progress()
    progress.feed(
        {"status": "Downloading", "progressDetail": {"current": 9, "total": 10}, "id": "a"}
    )
    before = progress.fraction
    progress.feed({"status": "Pulling fs layer", "progressDetail": {}, "id": "b"})
    progress.feed(
        {"status": "Downloading", "progressDetail": {"current": 1, "total": 1000}, "id": "b"}
    )
    assert progress.fraction >= before


def test_retry_restarting_a_layer_does_not_lower_its_fraction() -> None:
    progress = Progress()
    progress.feed(
        {"status": "Downloading", "progressDetail": {"current": 5, "total": 10}, "id": "a"}
    )
    high = progress.layers["a"].fraction
    progress.feed({"status": "Retrying in 1 second", "progressDetail": {}, "id": "a"})
    progress.feed(
        {"status": "Downloading", "progressDetail": {"current": 1, "total": 10}, "id": "a"}
    )
    assert progress.layers["a"].fraction == high


def test_items_without_status_and_non_mappings_are_ignored() -> None:
    progress = Progress()
    assert not progress.feed({"aux": {"ID": "sha256:x"}})
    assert not progress.feed("text")  # type: ignore[arg-type]
    progress.feed({"status": "Downloading", "id": "a", "progressDetail": "bad"})
    assert progress.layers["a"].current == 0
    assert progress.fraction == 0.0


def test_pull_of_an_up_to_date_image_ends_at_one_hundred_percent() -> None:
    progress = Progress()
    items = [
        {"status": "Pulling from x", "id": "latest"},
        {"status": "Digest: sha256:" + "c" * 64},
        {"status": "Status: Image is up to date for x:latest"},
    ]
    fractions_of(items, progress)
    assert progress.fraction == 0.0
    progress.finish()
    assert progress.fraction == 1.0


async def test_track_passes_items_through_and_finishes_on_clean_end() -> None:
    progress = Progress()
    seen = []
    async for item in progress.track(aiter_items(PULL_ITEMS)):
        seen.append(item)
        assert progress.fraction < 1.0
    assert seen == PULL_ITEMS
    assert progress.done and progress.fraction == 1.0


async def test_track_leaves_progress_unfinished_when_the_stream_fails() -> None:
    async def failing() -> AsyncIterator[dict[str, Any]]:
        yield PULL_ITEMS[0]
        yield PULL_ITEMS[2]
        raise DockerStreamError("boom", error_detail={"message": "boom"})

    progress = Progress()
    with pytest.raises(DockerStreamError):
        async for _item in progress.track(failing()):
            pass
    assert not progress.done
    assert progress.fraction < 1.0


def test_render_shows_bar_percent_bytes_and_layers() -> None:
    progress = Progress()
    fractions_of(PULL_ITEMS[:7], progress)
    line = progress.render(width=10)
    assert line.startswith("[")
    assert "%" in line and "MB" in line and "layers" in line
    assert "Progress" in repr(progress)


# --- run_pull_cli ------------------------------------------------------------------------


class FakeImages:
    def __init__(self, items: list[dict[str, Any]], error: Exception | None = None) -> None:
        self.items = items
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def pull(self, image: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        self.calls.append((image, kwargs))

        async def gen() -> AsyncIterator[dict[str, Any]]:
            for item in self.items:
                yield item
            if self.error is not None:
                raise self.error

        return gen()


class FakeDocker:
    def __init__(self, images: FakeImages) -> None:
        self.images = images


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_pull_cli_prints_plain_state_changes_when_not_a_terminal() -> None:
    images = FakeImages(PULL_ITEMS)
    out = io.StringIO()
    status = await run_pull_cli(FakeDocker(images), "img:1", out=out)  # type: ignore[arg-type]
    assert status == 0
    assert images.calls == [("img:1", {"stream": True})]
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert "base: Already exists" in lines
    assert "big: Pull complete" in lines
    # repeated ticks of one state are printed once
    assert sum(1 for line in lines if line == "big: Downloading") == 1
    assert lines[-1].startswith("Status: Downloaded newer image")


async def test_pull_cli_draws_a_bar_on_a_terminal_ending_at_100() -> None:
    out = TTY()
    status = await run_pull_cli(FakeDocker(FakeImages(PULL_ITEMS)), "img:1", out=out)  # type: ignore[arg-type]
    assert status == 0
    text = out.getvalue()
    assert "\r[" in text
    final_bar = text.split("\r")[-1]
    assert "100%" in final_bar
    assert "Status: Downloaded newer image" in text


async def test_pull_cli_reports_errors_and_returns_one() -> None:
    error = DockerStreamError("manifest unknown", error_detail={"message": "manifest unknown"})
    out, err = io.StringIO(), io.StringIO()
    images = FakeImages(PULL_ITEMS[:3], error=error)
    status = await run_pull_cli(FakeDocker(images), "img:1", out=out, err=err)  # type: ignore[arg-type]
    assert status == 1
    assert "manifest unknown" in err.getvalue()
    assert "img:1" in err.getvalue()


def test_progress_items_from_a_recorded_pull_round_trip_through_json() -> None:
    # the aggregate takes the decoded JSON as the stream yields it
    progress = Progress()
    for item in PULL_ITEMS:
        progress.feed(json.loads(json.dumps(item)))
    progress.finish()
    assert progress.percent == 100
