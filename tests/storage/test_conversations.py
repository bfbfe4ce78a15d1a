"""Conversations: create, list, count, update, pin, archive, soft delete with undo."""

from __future__ import annotations

import pytest

from desktop.storage import HistoryError, HistoryStore, NotFoundError


def test_create_and_get(store: HistoryStore) -> None:
    conv = store.create_conversation(
        "Trip", profile_id="p1", deployment="gpt-4o", api="responses", instructions="Be brief", params={"t": 0.2}
    )
    assert store.get_conversation(conv.id) == conv
    assert (conv.title, conv.profile_id, conv.deployment, conv.api) == ("Trip", "p1", "gpt-4o", "responses")
    assert conv.instructions == "Be brief"
    assert conv.params == {"t": 0.2}
    assert not conv.pinned
    assert not conv.archived
    assert conv.created_at == conv.updated_at
    assert len(conv.uuid) == 36


def test_get_missing_is_none(store: HistoryStore) -> None:
    assert store.get_conversation(12345) is None


def test_list_orders_pinned_then_recent(store: HistoryStore) -> None:
    a, b, c = (store.create_conversation(t) for t in "abc")
    store.add_user_message(a.id, "bump a")
    store.set_pinned(b.id, True)
    assert [x.title for x in store.list_conversations()] == ["b", "a", "c"]
    assert [x.title for x in store.list_conversations(limit=1, offset=1)] == ["a"]
    assert store.count_conversations() == 3
    assert c.id in {x.id for x in store.list_conversations()}


def test_archive_hides_from_default_list(store: HistoryStore) -> None:
    a = store.create_conversation("a")
    store.create_conversation("b")
    assert store.set_archived(a.id, True).archived
    assert [x.title for x in store.list_conversations()] == ["b"]
    assert {x.title for x in store.list_conversations(include_archived=True)} == {"a", "b"}
    assert store.count_conversations() == 1
    assert store.count_conversations(include_archived=True) == 2
    assert not store.set_archived(a.id, False).archived


def test_update_changes_only_given_fields_and_keeps_list_position(store: HistoryStore) -> None:
    conv = store.create_conversation("x", deployment="d1", params={"a": 1})
    updated = store.update_conversation(conv.id, deployment="d2", instructions="new", params={"b": 2}, api="chat")
    assert (updated.deployment, updated.instructions, updated.params, updated.api) == ("d2", "new", {"b": 2}, "chat")
    assert updated.title == "x"
    assert updated.updated_at == conv.updated_at
    assert store.rename(conv.id, "renamed").title == "renamed"
    assert store.update_conversation(conv.id, profile_id=None, deployment=None).deployment is None
    assert store.update_conversation(conv.id) == store.get_conversation(conv.id)


def test_bad_api_value_is_rejected(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="api"):
        store.create_conversation(api="completions")  # type: ignore[arg-type]


def test_update_missing_raises_not_found(store: HistoryStore) -> None:
    with pytest.raises(NotFoundError):
        store.rename(999, "x")


def test_soft_delete_restore_and_purge(store: HistoryStore) -> None:
    conv = store.create_conversation("gone")
    store.add_user_message(conv.id, "hello")
    store.delete_conversation(conv.id)
    assert store.get_conversation(conv.id) is None
    assert store.list_conversations() == []
    assert store.count_conversations(include_archived=True) == 0
    with pytest.raises(NotFoundError):
        store.add_user_message(conv.id, "too late")
    restored = store.restore_conversation(conv.id)
    assert restored.title == "gone"
    assert store.message_count(conv.id) == 1
    store.delete_conversation(conv.id)
    assert store.purge_deleted() == 1
    with pytest.raises(NotFoundError):
        store.restore_conversation(conv.id)
    with pytest.raises(NotFoundError):
        store.delete_conversation(conv.id)


def test_lone_surrogates_are_stored_not_raised(store: HistoryStore) -> None:
    conv = store.create_conversation("bad \ud800 title")
    assert conv.title == "bad ? title"


def test_closed_store_says_so(store: HistoryStore) -> None:
    store.close()
    store.close()
    with pytest.raises(HistoryError, match="closed"):
        store.list_conversations()


def test_open_twice_is_refused(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="already open"):
        store.open()
