"""Swarm and nodes against a real two-node swarm (the swarm daemons of the test environment)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

from aiodocker.exceptions import DockerConflictError, DockerError, DockerNotFoundError

if TYPE_CHECKING:
    from swarm_fixtures import SwarmCluster

pytest_plugins = ["swarm_fixtures"]
pytestmark = [pytest.mark.swarm, pytest.mark.asyncio(loop_scope="session")]


# --- swarm -------------------------------------------------------------------


async def test_swarm_init_made_the_first_daemon_a_manager_and_returned_its_node_id(
    swarm: SwarmCluster,
) -> None:
    state = await swarm.node_state(swarm.manager)
    assert state["LocalNodeState"] == "active"
    assert state["ControlAvailable"] is True
    assert state["NodeID"] == swarm.manager_node_id
    node = await swarm.manager.nodes.inspect(node_id=swarm.manager_node_id)
    assert node["Spec"]["Role"] == "manager"
    assert node["Status"]["Addr"] == swarm.manager_addr


async def test_swarm_init_on_a_node_that_is_already_in_a_swarm_fails_with_503(
    swarm: SwarmCluster,
) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.swarm.init(
            advertise_addr=swarm.manager_addr, listen_addr=f"{swarm.manager_addr}:2377"
        )
    assert caught.value.status == 503
    assert "already part of a swarm" in caught.value.message


async def test_swarm_join_made_the_second_daemon_a_worker(swarm: SwarmCluster) -> None:
    state = await swarm.node_state(swarm.worker)
    assert state["LocalNodeState"] == "active"
    assert state["ControlAvailable"] is False
    node = await swarm.manager.nodes.inspect(node_id=swarm.worker_node_id)
    assert node["Spec"]["Role"] == "worker"
    assert node["Status"]["Addr"] == swarm.worker_addr


async def test_swarm_join_of_a_node_that_is_already_in_a_swarm_fails_with_503(
    swarm: SwarmCluster,
) -> None:
    token = (await swarm.manager.swarm.inspect())["JoinTokens"]["Worker"]
    with pytest.raises(DockerError) as caught:
        await swarm.worker.swarm.join(
            remote_addrs=[f"{swarm.manager_addr}:2377"],
            join_token=token,
            listen_addr=f"{swarm.worker_addr}:2377",
        )
    assert caught.value.status == 503


async def test_swarm_join_rejects_a_single_address_string_before_any_request(
    swarm: SwarmCluster,
) -> None:
    with pytest.raises(TypeError, match="remote_addrs"):
        await swarm.worker.swarm.join(remote_addrs="10.0.0.1:2377", join_token="x")


async def test_swarm_inspect_returns_the_cluster_and_its_join_tokens(swarm: SwarmCluster) -> None:
    info = await swarm.manager.swarm.inspect()
    assert info["JoinTokens"]["Worker"].startswith("SWMTKN-")
    assert info["JoinTokens"]["Manager"].startswith("SWMTKN-")
    assert info["ID"] and info["Version"]["Index"] > 0
    assert info["Spec"]["Name"] == "default"


async def test_swarm_inspect_on_a_worker_fails_with_503(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.worker.swarm.inspect()
    assert caught.value.status == 503
    assert "not a swarm manager" in caught.value.message


async def test_swarm_update_replaces_the_spec_and_rotates_the_worker_token(
    swarm: SwarmCluster,
) -> None:
    before = await swarm.manager.swarm.inspect()
    spec = copy.deepcopy(before["Spec"])
    spec["Labels"] = {"aiodocker.test": "updated"}
    assert await swarm.manager.swarm.update(
        spec=spec, version=before["Version"]["Index"], rotate_worker_token=True
    )
    after = await swarm.manager.swarm.inspect()
    assert after["Spec"]["Labels"] == {"aiodocker.test": "updated"}
    assert after["JoinTokens"]["Worker"] != before["JoinTokens"]["Worker"]
    assert after["JoinTokens"]["Manager"] == before["JoinTokens"]["Manager"]
    # no spec and no version: the current ones, so only the token rotates
    assert await swarm.manager.swarm.update(rotate_manager_token=True)
    rotated = await swarm.manager.swarm.inspect()
    assert rotated["JoinTokens"]["Manager"] != after["JoinTokens"]["Manager"]
    assert rotated["Spec"]["Labels"] == {"aiodocker.test": "updated"}
    spec["Labels"] = {}
    await swarm.manager.swarm.update(spec=spec, version=rotated["Version"]["Index"])
    assert (await swarm.manager.swarm.inspect())["Spec"]["Labels"] == {}


async def test_swarm_update_with_a_stale_version_fails(swarm: SwarmCluster) -> None:
    info = await swarm.manager.swarm.inspect()
    with pytest.raises(DockerError) as caught:
        await swarm.manager.swarm.update(spec=info["Spec"], version=1)
    assert "out of sequence" in caught.value.message


async def test_swarm_unlock_key_is_empty_without_autolock_and_set_with_it(
    swarm: SwarmCluster,
) -> None:
    assert await swarm.manager.swarm.get_unlock_key() == ""
    info = await swarm.manager.swarm.inspect()
    spec = copy.deepcopy(info["Spec"])
    spec["EncryptionConfig"] = {"AutoLockManagers": True}
    await swarm.manager.swarm.update(spec=spec, version=info["Version"]["Index"])
    try:
        key = await swarm.manager.swarm.get_unlock_key()
        assert key.startswith("SWMKEY-")
        await swarm.manager.swarm.update(rotate_manager_unlock_key=True)
        rotated = await swarm.manager.swarm.get_unlock_key()
        assert rotated.startswith("SWMKEY-") and rotated != key
        # the manager is not locked (it locks only when its daemon restarts): unlock says so
        with pytest.raises(DockerConflictError) as caught:
            await swarm.manager.swarm.unlock(rotated)
        assert caught.value.status == 409
        assert "not locked" in caught.value.message
    finally:
        spec["EncryptionConfig"] = {"AutoLockManagers": False}
        await swarm.manager.swarm.update(spec=spec)
    assert await swarm.manager.swarm.get_unlock_key() == ""


async def test_swarm_unlock_key_on_a_worker_fails_with_503(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.worker.swarm.get_unlock_key()
    assert caught.value.status == 503


async def test_swarm_unlock_with_a_wrong_key_fails(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.swarm.unlock("SWMKEY-1-notthekey")
    assert caught.value.status in (400, 409)
    with pytest.raises(DockerError) as caught:
        await swarm.worker.swarm.unlock("SWMKEY-1-notthekey")
    assert caught.value.status == 503


async def test_swarm_unlock_rejects_an_empty_key_before_any_request(swarm: SwarmCluster) -> None:
    with pytest.raises(ValueError, match="key"):
        await swarm.manager.swarm.unlock("")


# --- nodes -------------------------------------------------------------------


async def test_nodes_list_shows_both_nodes_and_filters_by_role(swarm: SwarmCluster) -> None:
    nodes = await swarm.manager.nodes.list()
    by_id = {node["ID"]: node for node in nodes}
    assert set(by_id) == {swarm.manager_node_id, swarm.worker_node_id}
    assert by_id[swarm.manager_node_id]["Spec"]["Role"] == "manager"
    assert by_id[swarm.worker_node_id]["Spec"]["Role"] == "worker"
    workers = await swarm.manager.nodes.list(filters={"role": "worker"})
    assert [node["ID"] for node in workers] == [swarm.worker_node_id]


async def test_nodes_list_with_an_unknown_filter_fails_with_400(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.nodes.list(filters={"bogus": "x"})
    assert caught.value.status == 400


async def test_nodes_list_on_a_worker_fails_with_503(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.worker.nodes.list()
    assert caught.value.status == 503


async def test_nodes_inspect_returns_the_node(swarm: SwarmCluster) -> None:
    node = await swarm.manager.nodes.inspect(node_id=swarm.worker_node_id)
    assert node["ID"] == swarm.worker_node_id
    assert node["Status"]["State"] == "ready"


async def test_nodes_inspect_of_a_missing_node_fails_with_404(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerNotFoundError) as caught:
        await swarm.manager.nodes.inspect(node_id="nosuchnode")
    assert caught.value.status == 404
    assert "nosuchnode" in caught.value.message


async def test_nodes_update_drains_the_worker_and_makes_it_active_again(
    swarm: SwarmCluster,
) -> None:
    node = await swarm.manager.nodes.inspect(node_id=swarm.worker_node_id)
    spec = {**node["Spec"], "Availability": "drain", "Labels": {"aiodocker.test": "1"}}
    result = await swarm.manager.nodes.update(
        node_id=swarm.worker_node_id, version=node["Version"]["Index"], spec=spec
    )
    assert result == ""
    drained = await swarm.manager.nodes.inspect(node_id=swarm.worker_node_id)
    assert drained["Spec"]["Availability"] == "drain"
    assert drained["Spec"]["Labels"] == {"aiodocker.test": "1"}
    spec = {**drained["Spec"], "Availability": "active", "Labels": {}}
    await swarm.manager.nodes.update(
        node_id=swarm.worker_node_id, version=drained["Version"]["Index"], spec=spec
    )
    active = await swarm.manager.nodes.inspect(node_id=swarm.worker_node_id)
    assert active["Spec"]["Availability"] == "active"
    assert active["Spec"]["Labels"] == {}


async def test_nodes_update_with_a_stale_version_fails(swarm: SwarmCluster) -> None:
    node = await swarm.manager.nodes.inspect(node_id=swarm.worker_node_id)
    with pytest.raises(DockerError) as caught:
        await swarm.manager.nodes.update(node_id=swarm.worker_node_id, version=1, spec=node["Spec"])
    assert "out of sequence" in caught.value.message


async def test_nodes_update_rejects_an_unknown_role_or_availability_before_any_request(
    swarm: SwarmCluster,
) -> None:
    with pytest.raises(ValueError, match="Availability"):
        await swarm.manager.nodes.update(
            node_id=swarm.worker_node_id, version=1, spec={"Availability": "asleep"}
        )
    with pytest.raises(ValueError, match="Role"):
        await swarm.manager.nodes.update(
            node_id=swarm.worker_node_id, version=1, spec={"Role": "boss"}
        )


async def test_nodes_remove_of_a_node_that_is_up_or_missing_fails(swarm: SwarmCluster) -> None:
    with pytest.raises(DockerError) as caught:
        await swarm.manager.nodes.remove(node_id=swarm.worker_node_id)
    assert caught.value.status == 400
    assert "is not down" in caught.value.message
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.nodes.remove(node_id="nosuchnode")


async def test_swarm_leave_then_nodes_remove_of_the_down_node_then_join_again(
    swarm: SwarmCluster,
) -> None:
    """The worker leaves (and cannot leave twice, nor join with a bad token), its node
    goes down and is removed, and the daemon joins again as a new node."""
    old_node_id = swarm.worker_node_id
    assert await swarm.worker.swarm.leave(force=True) is True
    assert (await swarm.node_state(swarm.worker))["LocalNodeState"] == "inactive"
    with pytest.raises(DockerError) as caught:
        await swarm.worker.swarm.leave()
    assert caught.value.status == 503
    assert "not part of a swarm" in caught.value.message
    with pytest.raises(DockerError) as caught:
        await swarm.worker.swarm.join(
            remote_addrs=[f"{swarm.manager_addr}:2377"],
            join_token="SWMTKN-1-notavalidtoken",
            listen_addr=f"{swarm.worker_addr}:2377",
        )
    assert "join token" in caught.value.message

    async def node_is_down() -> bool:
        node = await swarm.manager.nodes.inspect(node_id=old_node_id)
        return bool(node["Status"]["State"] == "down")

    await swarm.wait_for(node_is_down, what="the node that left to be down", timeout=90)
    assert await swarm.manager.nodes.remove(node_id=old_node_id) == ""
    with pytest.raises(DockerNotFoundError):
        await swarm.manager.nodes.inspect(node_id=old_node_id)

    new_node_id = await swarm.join_worker()
    assert new_node_id != old_node_id
    nodes = await swarm.manager.nodes.list()
    assert {node["ID"] for node in nodes} == {swarm.manager_node_id, new_node_id}
