"""The compose -> Swarm translation of stacks, without a daemon (the daemon tests compare with the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiodocker.compose._stack_convert import (
    LABEL_IMAGE,
    LABEL_NAMESPACE,
    StackConvertError,
    convert,
    duration_ns,
    nano_cpus,
)
from aiodocker.compose._stack_deploy import comparable


def project(**services: dict[str, Any]) -> dict[str, Any]:
    return {"name": "proj", "services": services, "networks": {"default": {"name": "proj_default"}}}


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("10s", 10_000_000_000),
        ("1m30s", 90_000_000_000),
        ("500ms", 500_000_000),
        ("1h0m0s", 3_600_000_000_000),
        ("1.5s", 1_500_000_000),
        ("0", 0),
        ("2us", 2_000),
        (3, 3_000_000_000),
    ],
)
def test_go_durations_become_nanoseconds(text: Any, ns: int) -> None:
    assert duration_ns(text, "x") == ns


@pytest.mark.parametrize("text", ["10", "s", "1x", "1s2", ""])
def test_a_malformed_duration_is_refused_with_its_path(text: str) -> None:
    with pytest.raises(StackConvertError, match=r"services\.a\.healthcheck\.interval"):
        duration_ns(text, "services.a.healthcheck.interval")


def test_cpus_are_exact_nanocpus_and_too_much_precision_is_refused() -> None:
    assert nano_cpus("0.1", "x") == 100_000_000
    assert nano_cpus(1.5, "x") == 1_500_000_000
    with pytest.raises(StackConvertError, match="too precise"):
        nano_cpus("0.0000000001", "x")


def test_names_labels_and_the_default_network_follow_the_cli() -> None:
    plan = convert(
        project(web={"image": "busybox", "labels": {"a": "b"}, "networks": {"default": None}}), "st"
    )
    spec = plan.services["st_web"]
    assert spec["Labels"] == {LABEL_NAMESPACE: "st", LABEL_IMAGE: "busybox"}
    assert spec["TaskTemplate"]["ContainerSpec"]["Labels"] == {"a": "b", LABEL_NAMESPACE: "st"}
    assert spec["TaskTemplate"]["Networks"] == [{"Target": "st_default", "Aliases": ["web"]}]
    assert plan.networks == {
        "st_default": {
            "Labels": {LABEL_NAMESPACE: "st"},
            "Driver": "overlay",
            "Scope": "swarm",
            "Internal": False,
            "Attachable": False,
        }
    }


def test_an_explicit_name_is_kept_and_a_loader_default_name_is_scoped(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text("x")
    data = project(
        app={
            "image": "i",
            "secrets": [{"source": "a"}, {"source": "b", "target": "/run/secrets/b"}],
        }
    )
    data["secrets"] = {
        "a": {"name": "proj_a", "file": str(tmp_path / "s.txt")},
        "b": {"name": "fixed-name", "file": str(tmp_path / "s.txt")},
    }
    plan = convert(data, "st")
    assert [obj.name for obj in plan.secrets] == ["st_a", "fixed-name"]
    refs = plan.services["st_app"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    assert [(ref["SecretName"], ref["File"]["Name"], ref["File"]["Mode"]) for ref in refs] == [
        ("fixed-name", "b", 0o444),
        ("st_a", "a", 0o444),
    ]


def test_unsupported_and_deprecated_keys_are_reported_as_the_cli_reports_them() -> None:
    plan = convert(
        project(
            a={
                "image": "i",
                "restart": "always",
                "build": {"context": "."},
                "expose": ["1"],
                "container_name": "c",
                "privileged": True,
            }
        ),
        "st",
    )
    assert plan.warnings == [
        "Ignoring unsupported options: build, privileged, restart",
        "Ignoring deprecated options:\n\ncontainer_name: Setting the container name is not supported."
        "\n\nexpose: Exposing ports is unnecessary - services on the same network can access each "
        "other's containers on any port.",
    ]
    # restart is reported, and still becomes the restart policy, as with the CLI
    assert plan.services["st_a"]["TaskTemplate"]["RestartPolicy"] == {"Condition": "any"}


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ({}, r"services\.a: a stack service needs an image"),
        ({"image": "i", "networks": {"nope": None}}, "undefined network 'nope'"),
        (
            {"image": "i", "volumes": [{"type": "volume", "source": "v", "target": "/v"}]},
            "undefined volume 'v'",
        ),
        ({"image": "i", "secrets": [{"source": "s"}]}, "undefined secret 's'"),
        ({"image": "i", "deploy": {"mode": "global", "replicas": 2}}, "replicas can only be used"),
        ({"image": "i", "deploy": {"mode": "sometimes"}}, "unknown mode 'sometimes'"),
        ({"image": "i", "restart": "maybe"}, "unknown restart policy"),
    ],
)
def test_what_a_stack_cannot_take_is_refused_naming_the_key(
    service: dict[str, Any], message: str
) -> None:
    with pytest.raises(StackConvertError, match=message):
        convert(project(a=service), "st")


def test_modes_and_ports() -> None:
    plan = convert(
        project(
            job={"image": "i", "deploy": {"mode": "replicated-job", "replicas": 3}},
            glob={"image": "i", "deploy": {"mode": "global-job"}},
            web={
                "image": "i",
                "ports": [
                    {"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"},
                    {"target": 81, "published": "1", "mode": "host"},
                ],
            },
        ),
        "st",
    )
    assert plan.services["st_job"]["Mode"] == {
        "ReplicatedJob": {"MaxConcurrent": 3, "TotalCompletions": 3}
    }
    assert plan.services["st_glob"]["Mode"] == {"GlobalJob": {}}
    assert plan.services["st_web"]["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 81, "PublishMode": "host", "PublishedPort": 1},
        {"Protocol": "tcp", "TargetPort": 80, "PublishMode": "ingress", "PublishedPort": 8080},
    ]


def test_the_comparison_ignores_daemon_defaults_but_sees_a_change() -> None:
    spec = convert(project(a={"image": "i"}), "st").services["st_a"]
    stored = {
        **spec,
        "UpdateConfig": {
            "Parallelism": 1,
            "FailureAction": "pause",
            "Monitor": 5_000_000_000,
            "MaxFailureRatio": 0,
            "Order": "stop-first",
        },
    }
    stored["TaskTemplate"] = {**spec["TaskTemplate"], "ForceUpdate": 0, "Runtime": "container"}
    assert comparable(spec) == comparable(stored)
    changed = {**spec, "Mode": {"Replicated": {"Replicas": 2}}}
    assert comparable(changed) != comparable(stored)
    zero = {**spec, "Mode": {"Replicated": {"Replicas": 0}}}
    assert comparable(zero) != comparable(stored)
