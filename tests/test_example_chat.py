"""The chat example, through the test client (the browser test is in test_browser.py)."""

from __future__ import annotations

import json

from examples.chat.app import app, room


def test_page_is_served() -> None:
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert "new WebSocket(" in response.text


def test_messages_reach_everyone_and_leaving_is_announced() -> None:
    client = app.test_client()
    with client.websocket_connect("/ws?name=alice") as alice:
        assert json.loads(alice.receive_text()) == {"system": "alice joined"}
        with client.websocket_connect("/ws?name=bob") as bob:
            assert json.loads(bob.receive_text()) == {"system": "bob joined"}
            assert json.loads(alice.receive_text()) == {"system": "bob joined"}
            bob.send_text("hi alice")
            expected = {"name": "bob", "text": "hi alice"}
            assert json.loads(alice.receive_text()) == expected
            assert json.loads(bob.receive_text()) == expected
            alice.send_bytes("héllo".encode())
            assert json.loads(bob.receive_text()) == {"name": "alice", "text": "héllo"}
            assert json.loads(alice.receive_text()) == {"name": "alice", "text": "héllo"}
        assert json.loads(alice.receive_text()) == {"system": "bob left"}
    assert room.members == set()


def test_long_names_and_messages_are_cut() -> None:
    client = app.test_client()
    with client.websocket_connect("/ws?name=" + "n" * 100) as ws:
        assert json.loads(ws.receive_text()) == {"system": "n" * 32 + " joined"}
        ws.send_text("x" * 5000)
        assert len(json.loads(ws.receive_text())["text"]) == 1000
