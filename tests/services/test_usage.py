"""Usage and privacy through the simulator: tokens recorded per answer (both APIs), totals, costs only with prices,
`store: false` on every request and the policy's `user_security_context` in the request body."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from desktop.auth import KeyStore, SessionKeyStore
from desktop.client import AzureOpenAIClient
from desktop.config import Configuration, Deployment, Profile, SecurityContext, SettingsStore
from desktop.config._policy import parse_policy
from desktop.services import ChatService, Finished, TurnTarget
from desktop.services._connections import Connections, token_claims
from desktop.services._usage import NOT_STORED_NOTE, TokenCounts, UsageService, answer_cost, money_text
from desktop.simulator import Simulator
from desktop.storage import HistoryStore, Outcome, Usage
from tests.services.conftest import collect, target_for
from tests.services.test_connections_fixtures import Sessions, World
from tests.usage_seed import seed_history

LONG = "Please read these notes carefully. " * 150  # about 5,000 characters: over Azure's 1,024-token cache minimum


def _send(store: HistoryStore, target: TurnTarget, arun: Any, texts: list[str]) -> list[Finished]:
    chat = ChatService(store, lambda cid: _resolved(target))
    conv = store.create_conversation(profile_id="work")
    finished = []
    for text in texts:
        events = arun(collect(chat.send(conv.id, text)))
        done = events[-1]
        assert isinstance(done, Finished) and done.answer is not None, events
        finished.append(done)
    return finished


async def _resolved(target: TurnTarget) -> TurnTarget:
    return target


def _expected_cached(prompt: str) -> int:
    tokens = len(prompt) // 4
    return tokens // 128 * 128 if tokens >= 1024 else 0


@pytest.mark.parametrize(
    ("deployment", "api"),
    [("gpt-4.1", "responses"), ("gpt-4o-mini", "chat"), ("o4-mini", "responses"), ("o4-mini", "chat")],
)
def test_each_answer_records_input_cached_output_and_reasoning_tokens(
    store: HistoryStore, client: AzureOpenAIClient, sim: Simulator, arun: Any, deployment: str, api: str
) -> None:
    target = target_for(client, deployment, api=api)
    first, second = _send(store, target, arun, [LONG, "And in one sentence?"])
    reported = [r.json for r in sim.requests if r.path.endswith(("/responses", "/chat/completions"))]
    assert len(reported) == 2
    usage = second.answer.usage if second.answer else None
    assert usage is not None and first.answer is not None and first.answer.usage is not None
    # The second prompt starts with the whole first one: the simulator serves that start from its prompt cache.
    assert first.answer.usage.cached_tokens == 0
    assert usage.cached_tokens == _expected_cached(LONG) > 0
    assert usage.input_tokens is not None and usage.input_tokens > usage.cached_tokens
    reasoning = deployment == "o4-mini"
    assert (usage.reasoning_tokens or 0) > 0 if reasoning else usage.reasoning_tokens == 0
    assert usage.output_tokens is not None and usage.output_tokens > (usage.reasoning_tokens or 0)
    # The usage log (the Usage view's source) has both answers with the same counts.
    now = datetime.now(UTC)
    logged = store.usage_per_period([now - timedelta(hours=1), now + timedelta(hours=1)])
    assert sum(r.answers for r in logged) == 2
    assert sum(r.cached_tokens for r in logged) == usage.cached_tokens
    assert sum(r.input_tokens for r in logged) == first.answer.usage.input_tokens + usage.input_tokens
    assert {r.deployment for r in logged} == {deployment}
    assert {r.profile_id for r in logged} == {"work"}


@pytest.mark.parametrize(("deployment", "api"), [("gpt-4.1", "responses"), ("gpt-4o-mini", "chat")])
def test_every_request_asks_azure_not_to_store_it(
    store: HistoryStore, client: AzureOpenAIClient, sim: Simulator, arun: Any, deployment: str, api: str
) -> None:
    _send(store, target_for(client, deployment, api=api), arun, ["Hello"])
    body = sim.requests[-1].json
    assert body["store"] is False
    assert "user_security_context" not in body  # no policy asked for it


def test_the_policys_security_context_goes_into_chat_completions_requests(
    store: HistoryStore, client: AzureOpenAIClient, sim: Simulator, arun: Any
) -> None:
    context = {"application_name": "Contoso Chat", "end_user_id": "oid-1", "end_user_tenant_id": "tid-1"}
    _send(store, target_for(client, "gpt-4o-mini", api="chat", security_context=context), arun, ["Hello"])
    assert sim.requests[-1].json["user_security_context"] == context
    # Azure documents the field for Chat Completions only: Responses requests go without it (and still succeed).
    done = _send(store, target_for(client, "gpt-4.1", api="responses", security_context=context), arun, ["Hi"])
    assert done[0].answer is not None and done[0].answer.text
    assert "user_security_context" not in sim.requests[-1].json


# ---- costs --------------------------------------------------------------------------------------------------------


def _configuration(tmp_path: Path, *deployments: Deployment, currency: str = "USD") -> Configuration:
    configuration = Configuration(SettingsStore(tmp_path / "config"))
    configuration.load()
    configuration.put_profile(
        Profile(id="work", display_name="Contoso", endpoint="https://contoso.openai.azure.com/openai/v1/",
                deployments=deployments, currency=currency)
    )  # fmt: skip
    return configuration


def test_cached_input_costs_the_input_price_unless_a_cached_price_is_set() -> None:
    tokens = TokenCounts(input=2_000_000, cached=1_000_000, output=1_000_000)
    assert answer_cost(tokens, Deployment("d", input_price=2.0, output_price=8.0)) == pytest.approx(4.0 + 8.0)
    priced = Deployment("d", input_price=2.0, cached_input_price=0.5, output_price=8.0)
    assert answer_cost(tokens, priced) == pytest.approx(2.0 + 0.5 + 8.0)
    assert answer_cost(tokens, Deployment("d", input_price=2.0)) is None  # no output price: no cost at all
    assert answer_cost(tokens, None) is None


def test_amounts_read_as_estimates_with_their_currency() -> None:
    assert money_text({}) == ""
    assert money_text({"USD": 12345.678}) == "about USD 12,345.68"
    assert money_text({"USD": 0.0054}) == "about USD 0.0054"  # a single answer's cost is not rounded to nothing
    assert money_text({"USD": 0.0}) == "about USD 0.00"
    assert money_text({"USD": 1.5, "EUR": 2.25}) == "about EUR 2.25 + USD 1.50"
    assert money_text({"USD": 0.03}, decimals=4) == "about USD 0.0300"  # a table column keeps one precision


def test_conversation_total_shows_money_only_with_prices(
    store: HistoryStore, client: AzureOpenAIClient, tmp_path: Path, arun: Any
) -> None:
    _send(store, target_for(client, "gpt-4.1", api="responses"), arun, ["Hello", "More, please"])
    conv = store.list_conversations()[0]
    answers = [m for m in store.load_messages(conv.id) if m.usage is not None]
    tokens = sum((TokenCounts.of_usage(m.usage) for m in answers if m.usage), TokenCounts())
    unpriced = UsageService(store, _configuration(tmp_path / "a", Deployment("gpt-4.1")))
    text, tip = unpriced.conversation_line(conv.id)
    assert text == f"{tokens.total:,} tokens"
    assert tip == f"Input {tokens.input:,} · Output {tokens.output:,}"
    assert "USD" not in text + tip and "estimate" not in (text + tip).lower()
    assert unpriced.answer_lines(answers[0], "work") == [NOT_STORED_NOTE]

    prices = Deployment("gpt-4.1", input_price=2.0, output_price=8.0)
    priced = UsageService(store, _configuration(tmp_path / "b", prices, currency="EUR"))
    text, tip = priced.conversation_line(conv.id)
    cost = (tokens.input * 2.0 + tokens.output * 8.0) / 1_000_000
    assert text == f"{tokens.total:,} tokens · about EUR {cost:.4f}, estimated"
    assert "estimates" in tip
    lines = priced.answer_lines(answers[0], "work")
    assert lines[0].startswith("Estimated cost: about EUR ") and lines[0].endswith("(from the prices in Settings)")
    assert lines[1] == NOT_STORED_NOTE


def test_usage_summary_of_a_seeded_month_per_day_and_model(tmp_path: Path) -> None:
    today = date(2026, 3, 10)
    path = tmp_path / "history.sqlite3"
    seeded = seed_history(path, "work", today=today)
    store = HistoryStore(path)
    store.open()
    try:
        now = datetime(2026, 3, 10, 18, 0).astimezone()
        prices = Deployment("gpt-4.1", input_price=2.0, cached_input_price=0.5, output_price=8.0)
        service = UsageService(store, _configuration(tmp_path, prices), clock=lambda: now)
        summary = service.summary(30)
        assert summary.days[0] == today - timedelta(days=29) and summary.days[-1] == today
        expected: dict[tuple[date, str], int] = {}
        for a in seeded:
            expected[(a.day, a.deployment)] = expected.get((a.day, a.deployment), 0) + a.total
        assert summary.per_day == expected
        assert summary.models[0] == "gpt-4.1"  # most tokens first
        assert [(r.day, r.model) for r in summary.rows] == sorted(
            expected, key=lambda k: (k[0], expected[k]), reverse=True
        )
        assert summary.answers == len(seeded)
        # Only gpt-4.1 has prices: its answers are in the costs, the others are counted as unpriced.
        march = [a for a in seeded if a.deployment == "gpt-4.1" and a.day >= date(2026, 3, 1)]
        month = sum(
            ((a.input_tokens - a.cached_tokens) * 2.0 + a.cached_tokens * 0.5 + a.output_tokens * 8.0) / 1e6
            for a in march
        )
        assert summary.month_cost == f"about USD {month:,.2f}"
        assert summary.unpriced_answers == sum(1 for a in seeded if a.deployment != "gpt-4.1")
        assert all(r.cost == "" for r in summary.rows if r.model != "gpt-4.1")
        unpriced = UsageService(store, _configuration(tmp_path / "none"), clock=lambda: now).summary(30)
        assert not unpriced.priced and unpriced.month_cost == "" and all(r.cost == "" for r in unpriced.rows)
    finally:
        store.close()


def test_usage_outlives_deleted_conversations_but_not_the_30_days(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    seeded = seed_history(path, "work", today=date(2026, 3, 10), days=40)
    store = HistoryStore(path)
    store.open()
    try:
        for conv in store.list_conversations(limit=100):
            store.delete_conversation(conv.id)
        store.purge_deleted()
        now = datetime(2026, 3, 10, 18, 0).astimezone()
        summary = UsageService(store, _configuration(tmp_path), clock=lambda: now).summary(30)
        assert summary.answers == sum(1 for a in seeded if a.day > date(2026, 3, 10) - timedelta(days=30))
    finally:
        store.close()


# ---- the policy and the signed-in user ----------------------------------------------------------------------------


def test_policy_sets_prices_currency_and_the_security_context(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "has problems")
    prices = {"name": "gpt-4.1", "input_price": 1.9, "cached_input_price": 0.45, "output_price": 7.6}
    data = {
        "profiles": [
            {
                "name": "Contoso",
                "endpoint": "https://contoso.openai.azure.com",
                "currency": "EUR",
                "deployments": [prices],
            }
        ],
        "user_security_context": {"application_name": "Contoso Assistant", "end_user": True},
    }
    policy, notices = parse_policy(data, tmp_path / "policy.json")
    assert notices == ()
    assert policy.security_context == SecurityContext("Contoso Assistant", True)
    profile = policy.profiles[0]
    assert profile.currency == "EUR" and {"deployments", "currency"} <= profile.locked
    assert profile.deployments[0] == Deployment("gpt-4.1", input_price=1.9, cached_input_price=0.45, output_price=7.6)
    assert parse_policy({"user_security_context": True}, tmp_path)[0].security_context == SecurityContext()
    bad, notices = parse_policy({"user_security_context": {"end_user": "yes", "source_ip": "1.2.3.4"}}, tmp_path)
    assert bad.security_context == SecurityContext()
    assert "user_security_context.end_user" in notices[0] and "user_security_context.source_ip" in notices[0]


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def test_security_context_names_the_signed_in_entra_user(tmp_path: Path, memory_keyring: Any, arun: Any) -> None:
    bearer = _jwt({"oid": "11111111-2222-3333-4444-555555555555", "tid": "72f988bf-0000-4000-8000-000000000001"})
    assert token_claims(bearer)["oid"] == "11111111-2222-3333-4444-555555555555"
    assert token_claims("not-a-jwt") == {} and token_claims("a.%%%.c") == {}
    store = SettingsStore(tmp_path / "config")
    policy, _ = parse_policy({"user_security_context": {"application_name": "Contoso Assistant"}}, tmp_path)
    configuration = Configuration(store, policy)
    configuration.load()
    sessions = Sessions(defaults={"token": bearer})
    connections = Connections(configuration, KeyStore(memory_keyring), SessionKeyStore(), entra_sessions=sessions)
    world = World(configuration, KeyStore(memory_keyring), SessionKeyStore(), sessions, connections, tmp_path)
    world.entra_profile("https://contoso.openai.azure.com", default_deployment="gpt-4.1")
    try:
        target = arun(connections.target_for(None))
        assert target.security_context == {
            "application_name": "Contoso Assistant",
            "end_user_id": "11111111-2222-3333-4444-555555555555",
            "end_user_tenant_id": "72f988bf-0000-4000-8000-000000000001",
        }
        # With an API key there is no signed-in user: only the application's name goes.
        world.add_profile("https://contoso.openai.azure.com", pid="k", default_deployment="gpt-4.1")
        world.keys.set("k", "0123456789abcdef0123456789abcdef")
        keyed = arun(connections.target_for(None))
        assert keyed.security_context == {"application_name": "Contoso Assistant"}
    finally:
        arun(connections.aclose())


def test_usage_json_of_a_future_version_still_loads(tmp_path: Path) -> None:
    assert Usage.from_json({"input_tokens": 5, "cached_tokens": 2, "audio_tokens": 9, "output_tokens": "x"}) == Usage(
        input_tokens=5, cached_tokens=2
    )


def test_days_are_the_users_local_days_also_at_half_hour_offsets(tmp_path: Path) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    when = [datetime(2026, 3, 9, 18, 45, tzinfo=UTC)]  # 00:15 on 10 March in India, still 9 March in UTC
    store = HistoryStore(tmp_path / "history.sqlite3", clock=lambda: when[0])
    store.open()
    try:
        conv = store.create_conversation(profile_id="work")
        for moment in (datetime(2026, 3, 9, 18, 45, tzinfo=UTC), datetime(2026, 3, 9, 18, 15, tzinfo=UTC)):
            when[0] = moment
            answer = store.begin_answer(conv.id, deployment="gpt-4.1")
            store.finish_answer(answer.id, Outcome.COMPLETE, "ok", usage=Usage(input_tokens=10, output_tokens=5))
        now = datetime(2026, 3, 10, 9, 0, tzinfo=india)
        summary = UsageService(store, _configuration(tmp_path), tz=india, clock=lambda: now).summary(30)
        assert summary.per_day == {(date(2026, 3, 10), "gpt-4.1"): 15, (date(2026, 3, 9), "gpt-4.1"): 15}
    finally:
        store.close()
