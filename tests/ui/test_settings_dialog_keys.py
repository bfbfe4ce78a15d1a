"""The key table (tests/services/test_connections_keys.py) run through the settings dialog, its view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.config import Profile, normalize_endpoint
from desktop.services import KeyPlace
from tests.services.test_connections_keys import (
    KEY_TABLE,
    KEYRING_KEY,
    NEW_KEY,
    PID,
    KeyCase,
    key_stores,
    prepare_vault,
)
from tests.ui.test_settings_dialog import PORTAL_URL, UiWorld, in_loop, make_world


def key_table_world(folder: Path, case: KeyCase, memory_keyring: Any) -> UiWorld:
    """A world whose stores and consent are as the key table's row says."""
    keyring, session = key_stores(case, memory_keyring)
    world = make_world(folder, keyring, session_keys=session)
    prepare_vault(case, world.connections.keys)
    return world


@pytest.mark.parametrize("case", KEY_TABLE, ids=lambda c: c.id)
@in_loop
async def test_key_precedence_through_the_settings_dialog(
    tmp_path: Path, qtbot: Any, arun: Any, memory_keyring: Any, case: KeyCase
) -> None:
    world = key_table_world(tmp_path / "config", case, memory_keyring)
    world.configuration.put_profile(
        Profile(id=PID, display_name="Contoso", endpoint=normalize_endpoint(PORTAL_URL).base_url)
    )
    dialog = world.dialog(qtbot)
    await dialog.work.wait()
    status = dialog.editor.key_status.text()
    if case.used_before == KEYRING_KEY:
        assert status.startswith("A key is saved in")
    elif case.used_before is not None:
        assert status.startswith("This session only")
    else:
        assert not status.startswith(("A key is saved in", "This session only"))
    dialog.editor.key_edit.setText(NEW_KEY)
    assert await dialog.save() is (case.saved_to is not KeyPlace.NOWHERE)
    assert dialog.editor.session_box.isVisible() is (case.saved_to is KeyPlace.NOWHERE)  # consent is asked for
    assert (await world.connections.keys.read(PID)).key == case.used_after
    assert world.session_keys.get(PID) == case.session_after
    await world.connections.aclose()
