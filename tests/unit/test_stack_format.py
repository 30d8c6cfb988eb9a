"""The stack command line's --format, rows and rotated names, without a daemon."""

from __future__ import annotations

import pytest

from aiodocker._humanize import human_duration
from aiodocker.compose._stack_convert import FileObject
from aiodocker.compose._stack_deploy import content_digest, rotated_name
from aiodocker.compose._stack_format import FormatError, render
from aiodocker.compose._stack_rows import service_row, task_rows

FIELDS = ("Name", "Services")
ROWS = [{"Name": "a", "Services": "1"}, {"Name": "a-much-longer-name", "Services": "12"}]


def test_a_table_is_aligned_as_gos_tabwriter_with_the_clis_settings() -> None:
    # minimum cell width 10, padding 3; the last cell is not padded
    assert render("table", ROWS, FIELDS) == (
        "NAME                 SERVICES\na                    1\na-much-longer-name   12\n"
    )
    assert render("table {{.Services}}\\t{{.Name}}", ROWS[:1], FIELDS) == (
        "SERVICES   NAME\n1          a\n"
    )


def test_json_and_templates_print_as_the_cli() -> None:
    assert render("json", ROWS[:1], FIELDS) == '{"Name":"a","Services":"1"}\n'
    assert render("{{.Name}}: {{json .Services}}", ROWS[:1], FIELDS) == 'a: "1"\n'
    # Go's encoding/json escapes <, > and &
    ports = [{"Name": "x", "Services": "*:80->80/tcp"}]
    assert render("{{json .}}", ports, FIELDS) == ('{"Name":"x","Services":"*:80-\\u003e80/tcp"}\n')


@pytest.mark.parametrize(
    ("fmt", "message"),
    [("{{.Nope}}", "unknown field 'Nope'"), ("{{range .}}{{end}}", "unsupported template")],
)
def test_an_unsupported_template_is_refused_naming_it(fmt: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        render(fmt, ROWS, FIELDS)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.4, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (90, "About a minute"),
        (600, "10 minutes"),
        (3600, "About an hour"),
        (5 * 3600, "5 hours"),
        (3 * 86400, "3 days"),
    ],
)
def test_ages_are_worded_as_go_units_words_them(seconds: float, words: str) -> None:
    assert human_duration(seconds) == words


def test_service_rows_show_ingress_ports_as_ranges_and_max_per_node() -> None:
    service = {
        "ID": "abcdefghijklmnopqrstuvwxy",
        "Spec": {
            "Name": "s_web",
            "Mode": {"Replicated": {"Replicas": 2}},
            "TaskTemplate": {
                "ContainerSpec": {"Image": "img:1@sha256:" + "0" * 64},
                "Placement": {"MaxReplicas": 1},
            },
        },
        "Endpoint": {
            "Ports": [
                {"Protocol": "tcp", "TargetPort": 81, "PublishedPort": 8081},
                {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080},
                {"Protocol": "udp", "TargetPort": 53, "PublishedPort": 53},
                {"Protocol": "tcp", "TargetPort": 9, "PublishedPort": 9, "PublishMode": "host"},
            ]
        },
        "ServiceStatus": {"RunningTasks": 1, "DesiredTasks": 2},
    }
    assert service_row(service) == {
        "ID": "abcdefghijkl",
        "Name": "s_web",
        "Mode": "replicated",
        "Replicas": "1/2 (max 1 per node)",
        "Image": "img:1",
        "Ports": "*:8080-8081->80-81/tcp, *:53->53/udp",
    }


def test_task_rows_are_named_sorted_and_indented_as_the_cli() -> None:
    def task(task_id: str, slot: int, created: str, state: str, err: str = "") -> dict:
        return {
            "ID": task_id * 25,
            "ServiceID": "svc1",
            "NodeID": "node1",
            "Slot": slot,
            "CreatedAt": created,
            "DesiredState": state,
            "Spec": {"ContainerSpec": {"Image": "img:1@sha256:" + "0" * 64}},
            "Status": {"State": state, "Err": err, "Timestamp": "2020-01-01T00:00:00.123456789Z"},
        }

    tasks = [
        task("a", 10, "2020-01-01T00:00:01Z", "running"),
        task("b", 2, "2020-01-01T00:00:01Z", "shutdown", "x" * 40),
        task("c", 2, "2020-01-01T00:00:02Z", "running"),
    ]
    rows = task_rows(tasks, {"svc1": "s_web"}, {"node1": "host1"}, trunc=True, table=True)
    assert [row["Name"] for row in rows] == ["s_web.2", " \\_ s_web.2", "s_web.10"]
    assert rows[1]["Error"] == '"' + "x" * 29 + '…"'
    assert (rows[0]["ID"], rows[0]["Image"], rows[0]["Node"]) == ("c" * 12, "img:1", "host1")
    assert rows[1]["DesiredState"] == "Shutdown"
    assert rows[0]["CurrentState"].startswith("Running ") and "years ago" in rows[0]["CurrentState"]
    raw = task_rows(tasks, {}, {}, trunc=False, table=False)
    assert [row["Name"] for row in raw] == ["svc1.2", "svc1.2", "svc1.10"]
    assert raw[0]["Node"] == "node1" and raw[0]["Image"].endswith("0" * 64)


def test_a_rotated_name_carries_the_content_hash_and_fits_swarms_limit() -> None:
    one = FileObject(key="db", name="shop_db", labels={}, data=b"v1")
    two = FileObject(key="db", name="shop_db", labels={}, data=b"v2")
    assert rotated_name(one) == f"shop_db_{content_digest(one)}"
    assert rotated_name(one) != rotated_name(two)
    assert rotated_name(one) == rotated_name(FileObject("db", "shop_db", {"x": "y"}, b"v1"))
    templated = FileObject("db", "shop_db", {}, b"v1", templating={"Name": "golang"})
    assert rotated_name(templated) != rotated_name(one)
    long = FileObject(key="k", name="n" * 64, labels={}, data=b"v1")
    assert len(rotated_name(long)) == 64


def test_filter_flags_become_filters_and_a_malformed_one_is_refused() -> None:
    from aiodocker.compose._stack_cli import _filters

    assert _filters(["name=a", "Name=b", "label=k=v"]) == {"name": ["a", "b"], "label": ["k=v"]}
    with pytest.raises(FormatError, match="expected name=value"):
        _filters(["name"])
