"""Login cards: what a learner needs to start, on the address learners use."""

from __future__ import annotations

from labcheck.classroom.cards import card_text, cards, cards_html
from labcheck.classroom.state import ClassLogin, ClassState
from labcheck.session import load_lab


def _state(public: str = "") -> ClassState:
    return ClassState(
        lab="part7",
        instance="class-part7-abcd",
        service="hub",
        host="127.0.0.1",
        port=5050,
        realm="http://127.0.0.1:5051/token",
        token_url="http://127.0.0.1:5051/token",
        container_id="c0ffee",
        token_pid=1,
        token_command=("python",),
        grader=ClassLogin("instructor", "grader-secret"),
        learners=(ClassLogin("alice", "pw-a'b", "Alice <script>", "alice@example.org"),),
        public_address=public,
    )


def test_text_card() -> None:
    text = card_text(cards(load_lab("part7"), _state())[0])
    assert "--- alice (Alice <script> <alice@example.org>) ---" in text
    assert "registry: localhost:5050" in text and "password: pw-a'b" in text
    assert "export HUB_REGISTRY=localhost:5050 HUB_USERNAME=alice HUB_PASSWORD='pw-a'\"'\"'b'" in text
    assert 'docker login "$HUB_REGISTRY" -u "$HUB_USERNAME" --password-stdin' in text
    assert "labcheck instructions part7 --learner alice --class-registry localhost:5050" in text
    assert "grader-secret" not in text


def test_html_cards_use_the_public_address_and_escape() -> None:
    page = cards_html(load_lab("part7"), _state("registry.example.org"))
    assert "registry.example.org" in page and "localhost:5050" not in page
    assert "Alice &lt;script&gt;" in page and "<script>" not in page
    assert "grader-secret" not in page
