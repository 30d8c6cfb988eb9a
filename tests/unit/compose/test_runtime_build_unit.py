"""The compose runtime's build options: a ``build:`` section as BuildKit keywords, CLI flags.

The normalised sections below are what ``docker-compose config --format json``
2.40.3 prints for the YAML in each test's comment (checked against the binary).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiodocker import buildkit
from aiodocker.compose import _runtime_build
from aiodocker.compose._cli import _parser
from aiodocker.compose._runtime_build import (
    BuiltImage,
    build_kwargs,
    build_labels,
    ensure_image,
    image_name,
    ssh_sources,
)
from aiodocker.compose._runtime_build_cli import build_args, build_policy
from aiodocker.compose.project import ComposeProject, ComposeServiceError
from aiodocker.exceptions import DockerError, DockerNotFoundError

# build: {context: ./ctx, dockerfile_inline: ..., args: [A=1, B], target: t, labels: [x=1],
#         cache_from: [foo:cache], cache_to: [type=inline], network: host,
#         extra_hosts: ["h1:1.2.3.4", "h2=5.6.7.8"], shm_size: 64m, ssh: [default],
#         secrets: [s1, {source: s2, target: custom}], additional_contexts: {...},
#         platforms: [linux/amd64], tags: [foo:extra], no_cache: true, pull: true}
FULL_BUILD: dict[str, Any] = {
    "context": "/src/ctx",
    "dockerfile_inline": "FROM busybox\n",
    "args": {"A": "1"},
    "ssh": ["default"],
    "labels": {"x": "1"},
    "cache_from": ["foo:cache"],
    "cache_to": ["type=inline"],
    "no_cache": True,
    "additional_contexts": {"img": "docker-image://busybox", "other": "/src/other"},
    "pull": True,
    "extra_hosts": ["h1=1.2.3.4", "h2=5.6.7.8"],
    "network": "host",
    "target": "t",
    "secrets": [{"source": "s1"}, {"source": "s2", "target": "custom"}],
    "shm_size": "67108864",
    "tags": ["foo:extra"],
    "platforms": ["linux/amd64"],
}
SECRETS = {
    "s1": {"name": "p_s1", "file": "/src/sec.txt"},
    "s2": {"name": "p_s2", "environment": "HOME"},
}
COMPOSE_LABELS = {
    "com.docker.compose.project": "proj",
    "com.docker.compose.service": "web",
    "com.docker.compose.version": "2.40.3",
}


def test_the_image_is_image_or_composes_project_dash_service() -> None:
    assert image_name("proj", "web", {"build": {}}) == "proj-web"
    assert image_name("proj", "web", {"image": "reg/app:1", "build": {}}) == "reg/app:1"


def test_built_images_carry_composes_three_labels_over_the_build_labels() -> None:
    # as `docker image inspect` shows an image docker-compose 2.40.3 built
    assert build_labels("proj", "web", {"labels": {"x": "1"}}) == {"x": "1", **COMPOSE_LABELS}
    spoofed = {"labels": {"com.docker.compose.project": "other"}}
    assert build_labels("proj", "web", spoofed) == COMPOSE_LABELS


def test_every_key_of_a_build_section_becomes_its_buildkit_keyword(tmp_path: Path) -> None:
    kwargs = build_kwargs(
        "proj", "web", {"build": FULL_BUILD}, secrets=SECRETS, inline_dir=str(tmp_path)
    )
    assert kwargs.pop("secrets") == {
        "s1": buildkit.Secret(file="/src/sec.txt"),
        "custom": buildkit.Secret(env="HOME"),
    }
    assert kwargs == {
        "tag": ["proj-web", "foo:extra"],
        "labels": {"x": "1", **COMPOSE_LABELS},
        "nocache": True,
        "pull": True,
        "path": "/src/ctx",
        "path_dockerfile": str(tmp_path / "Dockerfile"),
        "buildargs": {"A": "1"},
        "target": "t",
        "network_mode": "host",
        "cache_from": ["foo:cache"],
        "cache_to": ["type=inline"],
        "extra_hosts": {"h1": "1.2.3.4", "h2": "5.6.7.8"},
        "shm_size": 67108864,
        "platform": "linux/amd64",
        "build_contexts": {"img": "docker-image://busybox", "other": "/src/other"},
        "ssh": {"default": None},
    }
    assert (tmp_path / "Dockerfile").read_text() == "FROM busybox\n"


def test_a_plain_section_gives_only_the_names_labels_and_flags() -> None:
    spec = {"image": "app:v2", "build": {"context": "/src", "dockerfile": "Dockerfile.dev"}}
    assert build_kwargs("proj", "web", spec) == {
        "tag": ["app:v2"],
        "labels": COMPOSE_LABELS,
        "nocache": False,
        "pull": False,
        "path": "/src",
        "path_dockerfile": "Dockerfile.dev",
    }


def test_command_line_options_add_to_the_section() -> None:
    spec = {"platform": "linux/arm64", "build": {"context": "/src", "args": {"A": "1", "B": "2"}}}
    kwargs = build_kwargs(
        "proj", "web", spec, no_cache=True, pull=True, build_args={"B": "cli"},
        ssh=["key=/k1,/k2"], memory=1 << 20,
    )  # fmt: skip
    assert kwargs["buildargs"] == {"A": "1", "B": "cli"}
    assert kwargs["nocache"] is kwargs["pull"] is True
    assert kwargs["ssh"] == {"key": "/k1,/k2"}
    assert kwargs["memory"] == 1 << 20
    assert kwargs["platform"] == "linux/arm64"  # the service's platform when build has none


def test_a_git_context_is_a_remote() -> None:
    spec = {"build": {"context": "https://example.com/repo.git#main"}}
    kwargs = build_kwargs("proj", "web", spec)
    assert kwargs["remote"] == "https://example.com/repo.git#main"
    assert "path" not in kwargs


@pytest.mark.parametrize(
    ("build", "secrets", "message"),
    [
        ({"platforms": ["linux/amd64", "linux/arm64"]}, {}, "several platforms"),
        ({"additional_contexts": {"base": "service:base"}}, {}, "names a service"),
        ({"secrets": [{"source": "nope"}]}, {}, "undefined secret 'nope'"),
        ({"secrets": [{"source": "s"}]}, {"s": {"name": "x"}}, "environment or file-based"),
        ({"extra_hosts": ["nohost"]}, {}, "build.extra_hosts"),
        ({"dockerfile_inline": "FROM x"}, {}, "dockerfile_inline needs a directory"),
    ],
)
def test_what_cannot_be_built_is_refused_with_a_reason(
    build: dict[str, Any], secrets: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_kwargs("proj", "web", {"build": {"context": "/src", **build}}, secrets=secrets)


def test_a_service_without_build_is_refused() -> None:
    with pytest.raises(ValueError, match="has no build section"):
        build_kwargs("proj", "web", {"image": "x"})


def test_ssh_sources_and_build_args_as_compose_reads_them() -> None:
    assert ssh_sources(["default", "id=/path", "other="]) == {
        "default": None, "id": "/path", "other": None,
    }  # fmt: skip
    env = {"FROM_ENV": "yes"}
    assert build_args(["A=1", "B=", "FROM_ENV", "UNSET"], env) == {
        "A": "1", "B": "", "FROM_ENV": "yes",
    }  # fmt: skip
    with pytest.raises(ValueError, match="--build-arg"):
        build_args(["=x"], env)


def test_the_cli_takes_composes_flags() -> None:
    parser = _parser()
    args = parser.parse_args(
        ["build", "--build-arg", "A=1", "--no-cache", "--pull", "--push", "-q", "--ssh",
         "default", "-m", "64m", "--with-dependencies", "web"]
    )  # fmt: skip
    assert (args.build_args, args.no_cache, args.pull, args.push, args.quiet) == (
        ["A=1"], True, True, True, True,
    )  # fmt: skip
    assert (args.ssh, args.memory, args.with_dependencies, args.services) == (
        "default", "64m", True, ["web"],
    )  # fmt: skip
    args = parser.parse_args(
        ["pull", "--ignore-buildable", "--ignore-pull-failures", "--include-deps",
         "--policy", "always", "-q"]
    )  # fmt: skip
    assert (args.ignore_buildable, args.ignore_pull_failures, args.include_deps) == (
        True, True, True,
    )  # fmt: skip
    assert args.policy == "always"
    args = parser.parse_args(["push", "--ignore-push-failures", "--include-deps", "a", "b"])
    assert (args.ignore_push_failures, args.include_deps, args.services) == (True, True, ["a", "b"])
    assert build_policy(parser.parse_args(["up", "--build"])) is True
    assert build_policy(parser.parse_args(["create", "--no-build"])) is False
    assert build_policy(parser.parse_args(["up", "-d"])) is None
    with pytest.raises(Exception, match="not allowed with"):
        parser.parse_args(["up", "--build", "--no-build"])


# --- which images up builds, pulls or takes; which ones pull skips -----------------------


class FakeImages:
    """The two image calls the runtime makes: inspect (by name) and pull (may fail)."""

    def __init__(self, present: set[str], pullable: set[str]) -> None:
        self.present, self.pullable = present, pullable
        self.pulled: list[str] = []

    async def inspect(self, name: str) -> dict[str, str]:
        if name not in self.present:
            raise DockerNotFoundError(404, f"No such image: {name}")
        return {"Id": f"id-of-{name}"}

    def pull(self, name: str, stream: bool = False) -> Any:
        """Awaitable, or (``stream=True``) an async iterator, as ``images.pull`` is."""
        items = self._pull(name)
        return items if stream else _collect(items)

    async def _pull(self, name: str) -> Any:
        self.pulled.append(name)
        if name not in self.pullable:
            raise DockerError(404, f"manifest for {name} not found")
        self.present.add(name)
        yield {"status": "Pull complete"}


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


class FakeDocker:
    def __init__(self, images: FakeImages) -> None:
        self.images = images


def fake_project(services: dict[str, Any], images: FakeImages) -> ComposeProject:
    return ComposeProject(FakeDocker(images), {"name": "p", "services": services})  # type: ignore[arg-type]


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The services build_one was asked to build (it builds nothing)."""
    done: list[str] = []

    async def build_one(project: ComposeProject, service: str, **_: Any) -> BuiltImage:
        done.append(service)
        return BuiltImage(
            service, image_name(project.name, service, project.services[service]), "built"
        )

    monkeypatch.setattr(_runtime_build, "build_one", build_one)
    return done


@pytest.mark.parametrize(
    ("spec", "policy", "build", "present", "pullable", "expected", "pulled"),
    [
        ({}, None, None, {"p-web"}, set(), "id-of-p-web", []),
        ({}, None, None, set(), set(), "built", []),  # no image: nothing to pull
        ({}, None, True, {"p-web"}, set(), "built", []),  # up --build
        ({"pull_policy": "build"}, None, None, {"p-web"}, set(), "built", []),
        ({"image": "r/a"}, None, None, set(), {"r/a"}, "id-of-r/a", ["r/a"]),
        ({"image": "r/a"}, None, None, set(), set(), "built", ["r/a"]),  # pull failed: build
        ({"image": "r/a"}, "never", None, set(), {"r/a"}, "built", []),
        ({"image": "r/a"}, "always", None, {"r/a"}, {"r/a"}, "id-of-r/a", ["r/a"]),
        ({"image": "r/a"}, "always", None, set(), set(), "built", ["r/a"]),  # tried once
    ],
)
async def test_up_takes_pulls_or_builds_a_buildable_image_as_compose(
    builds: list[str],
    spec: dict[str, Any],
    policy: str | None,
    build: bool | None,
    present: set[str],
    pullable: set[str],
    expected: str,
    pulled: list[str],
) -> None:
    images = FakeImages(set(present), pullable)
    project = fake_project({"web": {**spec, "build": {"context": "/src"}}}, images)
    assert await ensure_image(project, "web", policy, build) == expected
    assert images.pulled == pulled
    assert builds == (["web"] if expected == "built" else [])


async def test_up_no_build_refuses_a_missing_image(builds: list[str]) -> None:
    project = fake_project({"web": {"build": {"context": "/src"}}}, FakeImages(set(), set()))
    with pytest.raises(ComposeServiceError, match="--no-build"):
        await ensure_image(project, "web", None, False)
    assert builds == []


async def test_pull_skips_as_compose_and_fails_after_the_others() -> None:
    services = {
        "built": {"build": {"context": "/src"}},
        "never": {"image": "r/never:1", "pull_policy": "never"},
        "buildable": {"image": "r/gone:1", "build": {"context": "/src"}},
        "present": {"image": "r/here:1", "pull_policy": "missing"},
        "latest": {"image": "r/here", "pull_policy": "missing"},
        "twin": {"image": "r/here"},
    }
    images = FakeImages({"r/here:1", "r/here"}, {"r/here"})
    project = fake_project(services, images)
    found = await project.pull(ignore_pull_failures=True)
    assert [(i.service, i.status, i.message) for i in found] == [
        ("built", "skipped", "No image to be pulled"),
        ("never", "skipped", "pull_policy is never"),
        ("buildable", "failed", "manifest for r/gone:1 not found"),
        ("present", "skipped", "Image is already present locally"),
        ("latest", "pulled", ""),  # a present :latest may have moved: pulled again
        ("twin", "skipped", "Image is already being pulled by latest"),
    ]
    skipped = await project.pull(["buildable"], ignore_buildable=True)
    assert skipped[0].message == "Image can be built"
    with pytest.raises(ComposeServiceError, match="'buildable': pulling r/gone:1 failed"):
        await project.pull()
    assert images.pulled.count("r/here") == 2  # the other pulls went on
