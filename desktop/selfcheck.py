"""Checks an installed build runs on itself, for packaging CI: `azure-openai-chat --self-check COMMAND ...`.

The frozen launcher (packaging/pyinstaller/launch.py) hands `--self-check` here before the GUI starts, so the
checks run inside the real bundle: its keyring backends, its SQLite, its platform folders. Not for users; it
changes nothing of theirs except what a command says (a throw-away key that is deleted again; a probe
conversation written with `seed-history`).

  keystore                      save a throw-away key through KeyStore, read it back, delete it
  seed-history TOKEN            add a conversation titled "Upgrade probe TOKEN" to the history
  check-history TOKEN           exit 0 only if that conversation and its message are in the history
Options: --profile-dir DIR (as the app's), before the command.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop.auth import KeyringUnavailableError, KeyStore
from desktop.paths import AppPaths
from desktop.storage import HistoryError, HistoryStore

PROBE_TITLE = "Upgrade probe {token}"
PROBE_TEXT = "This conversation was written by the self-check before an upgrade ({token})."


def _paths(profile_dir: Path | None) -> AppPaths:
    paths = AppPaths.under(profile_dir) if profile_dir is not None else AppPaths.platform_default()
    paths.ensure()
    return paths


def check_keystore(store: KeyStore) -> str:
    """Round-trip a random key through `store`; return a one-line report or raise `RuntimeError`."""
    profile_id = f"self-check-{secrets.token_hex(8)}"
    key = secrets.token_hex(24)
    backend = f"{store.backend_name()}"
    store.set(profile_id, key)
    try:
        read_back = store.get(profile_id)
    finally:
        deleted = store.delete(profile_id)
    if read_back != key:
        raise RuntimeError(f"the key read back from {backend} differs from the one saved")
    if not deleted or store.get(profile_id) is not None:
        raise RuntimeError(f"the key could not be deleted from {backend}")
    return f"keystore ok: saved, read back and deleted a key in {backend}"


def seed_history(store: HistoryStore, token: str) -> str:
    """Write the probe conversation; return a one-line report."""
    conversation = store.create_conversation(PROBE_TITLE.format(token=token))
    store.add_user_message(conversation.id, PROBE_TEXT.format(token=token))
    return f"history seeded: conversation {conversation.id} in {store.path}"


def check_history(store: HistoryStore, token: str) -> str:
    """Find the probe conversation and its message; return a one-line report or raise `RuntimeError`."""
    title = PROBE_TITLE.format(token=token)
    found = [c for c in store.list_conversations() if c.title == title]
    if not found:
        raise RuntimeError(f"no conversation titled {title!r} in {store.path}")
    texts = [m.text for m in store.load_messages(found[0].id)]
    if PROBE_TEXT.format(token=token) not in texts:
        raise RuntimeError(f"the conversation {title!r} lost its message")
    return f"history ok: {title!r} and its message are in {store.path}"


def _with_history(paths: AppPaths, action: str, token: str) -> str:
    store = HistoryStore(paths.history_file)
    store.open()
    try:
        return seed_history(store, token) if action == "seed-history" else check_history(store, token)
    finally:
        store.close()


def main(argv: Sequence[str]) -> int:
    """Run one self-check; print one line; 0 when it passed, 1 when it failed, 2 on a usage error."""
    parser = argparse.ArgumentParser(prog="azure-openai-chat --self-check", description=__doc__.splitlines()[0])
    parser.add_argument("--profile-dir", type=Path, metavar="DIR")
    parser.add_argument("command", choices=["keystore", "seed-history", "check-history"])
    parser.add_argument("token", nargs="?", default="")
    args = parser.parse_args(argv)
    if args.command != "keystore" and not args.token:
        parser.error(f"{args.command} needs a TOKEN")
    try:
        if args.command == "keystore":
            report = check_keystore(KeyStore())
        else:
            report = _with_history(_paths(args.profile_dir), args.command, args.token)
    except (RuntimeError, KeyringUnavailableError, HistoryError) as error:
        print(f"self-check {args.command} FAILED: {error}", flush=True)
        return 1
    print(report, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
