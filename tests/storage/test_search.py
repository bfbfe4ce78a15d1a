"""Full-text search: highlighted snippets, hidden messages excluded, hostile queries never raise."""

from __future__ import annotations

import pytest

from desktop.storage import MARK_END, MARK_START, HistoryStore, Outcome, Role


@pytest.fixture
def filled(store: HistoryStore) -> HistoryStore:
    conv = store.create_conversation("Recipes")
    store.add_user_message(conv.id, "How do I bake sourdough bread?")
    ans = store.begin_answer(conv.id)
    store.finish_answer(ans.id, Outcome.COMPLETE, 'Use a "starter" AND patience. Crème brûlée later; 東京 AND-NOT*')
    other = store.create_conversation("Cars")
    store.add_user_message(other.id, "My car needs new tyres")
    return store


def test_hit_has_ids_title_and_marked_snippet(filled: HistoryStore) -> None:
    [hit] = filled.search("sourdough")
    assert hit.conversation_title == "Recipes"
    assert hit.role is Role.USER
    assert f"{MARK_START}sourdough{MARK_END}" in hit.snippet
    msg = filled.get_message(hit.message_id)
    assert msg is not None
    assert msg.conversation_id == hit.conversation_id
    assert hit.created_at == msg.created_at


def test_words_are_anded_and_prefixes_match(filled: HistoryStore) -> None:
    assert len(filled.search("sour bre")) == 1
    assert filled.search("sourdough tyres") == []
    assert len(filled.search("TYRE")) == 1


def test_diacritics_and_unicode(filled: HistoryStore) -> None:
    assert len(filled.search("creme brulee")) == 1
    assert len(filled.search("東京")) == 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        '"',
        '""',
        '"unbalanced',
        "AND",
        "OR NOT",
        "NEAR(a b)",
        "*",
        "starter*",
        "-starter",
        "^starter",
        "text:starter",
        "(((",
        "a\x00b",
        "\ud800",
        "😀",
        "'; DROP TABLE messages; --",
        "x" * 5000,
    ],
)
def test_hostile_queries_never_raise(filled: HistoryStore, query: str) -> None:
    assert isinstance(filled.search(query), list)


def test_syntax_words_match_literally(filled: HistoryStore) -> None:
    assert len(filled.search('"starter"')) == 1
    assert len(filled.search("AND patience")) == 1
    assert filled.search("") == []
    assert filled.search("* ( )") == []


def test_superseded_and_deleted_messages_are_not_found(store: HistoryStore) -> None:
    conv = store.create_conversation()
    q = store.add_user_message(conv.id, "zebra")
    store.edit_user_message(q.id, "giraffe")
    assert store.search("zebra") == []
    assert len(store.search("giraffe")) == 1
    store.restore_superseded(conv.id)
    assert len(store.search("zebra")) == 1
    assert store.search("giraffe") == []
    store.delete_conversation(conv.id)
    assert store.search("zebra") == []


def test_streaming_text_is_searchable_as_it_checkpoints(store: HistoryStore) -> None:
    conv = store.create_conversation()
    ans = store.begin_answer(conv.id)
    store.checkpoint_answer(ans.id, "first words")
    assert len(store.search("first")) == 1
    store.checkpoint_answer(ans.id, "other words")
    assert store.search("first") == []
    assert len(store.search("other")) == 1
