"""Roles: only admins grant them; everyone else sees the unknown-command answer."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import Chat, votebot_cli

ADMIN = 42  # VOTEBOT_ADMINS in the test settings


async def test_a_voter_trying_role_gets_the_unknown_command_answer(chat: Chat) -> None:
    await chat.say("/frobnicate")
    unknown = chat.texts()[-2].replace("frobnicate", "X")
    await chat.say("/role add 1001 broadcaster")
    assert chat.texts()[-2].replace("role", "X") == unknown
    store = chat.app.bot_data.services.store
    assert await store.roles_of(1001) == frozenset()


async def test_an_admin_grants_lists_and_revokes_roles(app, api) -> None:
    admin = Chat(app, api, user_id=ADMIN)
    store = app.bot_data.services.store
    await admin.say("/role add 1001 broadcaster")
    assert "attribué" in admin.texts()[-1]
    assert await store.roles_of(1001) == {"broadcaster"}
    await admin.say("/role list")
    assert "1001 : broadcaster" in admin.texts()[-1]
    await admin.say("/role remove 1001 broadcaster")
    assert await store.roles_of(1001) == frozenset()
    await admin.say("/role add 1001 king")
    assert "Utilisation" in admin.texts()[-1]


def test_cli_role_add_list_remove(tmp_path: Path) -> None:
    env = {**os.environ, "VOTEBOT_DB": str(tmp_path / "v.sqlite3"), "VOTEBOT_ADMINS": "9"}

    def votebot(*args: str) -> str:
        return votebot_cli(tmp_path, env, *args).stdout

    assert "done" in votebot("role", "add", "77", "support")
    listing = votebot("role", "list")
    assert "9\tadmin" in listing and "77\tsupport" in listing
    votebot("role", "remove", "77", "support")
    assert "77" not in votebot("role", "list")
