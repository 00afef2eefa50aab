"""Groups: named sets of stored nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from actors import Runtime
from provenance import Dict, Float, Group, Int, NotExistentError, Str
from provenance.models import DbGroup, group_node


def group_rows(rt: Runtime) -> list[tuple[str, str]]:
    """The (label, type_string) of every group in the database."""
    with rt.storage.read_session() as session:
        return [
            (label, type_string)
            for label, type_string in session.execute(
                sa.select(DbGroup.label, DbGroup.type_string).order_by(DbGroup.id)
            )
        ]


def membership_count(rt: Runtime) -> int:
    """How many (group, node) memberships the database holds."""
    with rt.storage.read_session() as session:
        return session.execute(sa.select(sa.func.count()).select_from(group_node)).scalar_one()


def test_get_or_create_creates_a_group_once_and_then_returns_it(any_runtime: Runtime) -> None:
    group, created = Group.get_or_create("results")
    assert created
    assert group.is_stored
    assert group.label == "results"

    again, created_again = Group.get_or_create("results")

    assert not created_again
    assert again.label == "results"
    assert group_rows(any_runtime) == [("results", "")]


def test_a_group_is_not_stored_until_created_or_given_nodes(runtime: Runtime) -> None:
    group = Group("later")
    assert not group.is_stored
    assert group_rows(runtime) == []
    group.add_nodes([])
    assert group.is_stored


def test_get_of_a_missing_label_raises_not_existent_error_naming_it(any_runtime: Runtime) -> None:
    with pytest.raises(NotExistentError, match="no group labelled 'nowhere'"):
        Group.get("nowhere")


def test_get_returns_a_stored_group(runtime: Runtime) -> None:
    Group.get_or_create("found")
    assert Group.get("found").label == "found"


def test_a_group_needs_a_label() -> None:
    with pytest.raises(ValueError, match="non-empty label"):
        Group("")


def test_the_same_label_with_another_type_string_is_another_group(runtime: Runtime) -> None:
    plain, _ = Group.get_or_create("shared")
    typed, created = Group.get_or_create("shared", type_string="calculations")
    assert created
    plain.add_nodes([Int(1)])
    assert typed.nodes == []
    assert [node.value for node in plain.nodes] == [1]
    with pytest.raises(NotExistentError, match="'other'"):
        Group.get("shared", type_string="other")
    assert group_rows(runtime) == [("shared", ""), ("shared", "calculations")]


def test_add_nodes_stores_unstored_nodes_and_lists_them_in_order(any_runtime: Runtime) -> None:
    group, _ = Group.get_or_create("numbers")
    stored = Float(0.5).store()
    fresh = [Int(1), Str("two"), Dict({"three": 3})]

    group.add_nodes([*fresh, stored])

    assert all(node.is_stored for node in fresh)
    members = group.nodes
    assert [node.pk for node in members] == sorted(node.pk for node in [*fresh, stored])
    assert [type(node) for node in members] == [Float, Int, Str, Dict]
    assert [node.value for node in members] == [0.5, 1, "two", {"three": 3}]


def test_add_nodes_creates_the_group_if_it_does_not_exist(runtime: Runtime) -> None:
    Group("implicit").add_nodes([Int(3)])
    assert [node.value for node in Group.get("implicit").nodes] == [3]


def test_adding_a_node_twice_does_not_duplicate_it(any_runtime: Runtime) -> None:
    group, _ = Group.get_or_create("unique")
    number = Int(7)
    group.add_nodes([number])
    group.add_nodes([number, Int(8)])
    group.add_nodes([number, number])

    assert [node.value for node in group.nodes] == [7, 8]
    assert membership_count(any_runtime) == 2


def test_a_node_may_belong_to_several_groups(runtime: Runtime) -> None:
    number = Int(1).store()
    first, _ = Group.get_or_create("first")
    second, _ = Group.get_or_create("second")
    first.add_nodes([number])
    second.add_nodes([number])
    assert [node.pk for node in first.nodes] == [node.pk for node in second.nodes] == [number.pk]


def test_a_group_and_its_nodes_survive_a_new_runtime(home: Path) -> None:
    with Runtime(home):
        group, _ = Group.get_or_create("kept")
        group.add_nodes([Int(1), Int(2)])
    with Runtime(home):
        assert [node.value for node in Group.get("kept").nodes] == [1, 2]
        assert not Group.get_or_create("kept")[1]
