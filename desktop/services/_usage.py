"""Token usage and its estimated cost: per answer, per conversation, and per day and model for the Usage view.

Counts come from the history (each answer's usage as Azure reported it); prices from the connection's deployments
(Settings, or the administrator's policy). Without prices no money is shown anywhere. Cached input tokens cost the
deployment's cached-input price when one is set, else the input price: a bill is never under-estimated because a
price was left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from desktop.config import Configuration, Deployment
from desktop.storage import HistoryStore, Message, Usage, UsageRow

__all__ = [
    "ESTIMATE_NOTE",
    "NOT_STORED_NOTE",
    "TokenCounts",
    "UsageService",
    "UsageSummary",
    "UsageTableRow",
    "answer_cost",
    "money_text",
]

NOT_STORED_NOTE = "Not stored by Azure: the app asks Azure not to keep its requests or answers (store: false)."
ESTIMATE_NOTE = (
    "Costs are estimates from the prices per million tokens set in Settings (or by your organisation); "
    "Azure's invoice is what counts."
)
UNKNOWN_MODEL = "Unknown model"
Money = dict[str, float]


@dataclass(frozen=True)
class TokenCounts:
    """Tokens of one or more answers: cached tokens are part of input, reasoning tokens part of output."""

    input: int = 0
    cached: int = 0
    output: int = 0
    reasoning: int = 0

    @property
    def total(self) -> int:
        """Input plus output."""
        return self.input + self.output

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.input + other.input,
            self.cached + other.cached,
            self.output + other.output,
            self.reasoning + other.reasoning,
        )

    @classmethod
    def of_row(cls, row: UsageRow) -> TokenCounts:
        """The counts of a history usage row."""
        return cls(row.input_tokens, row.cached_tokens, row.output_tokens, row.reasoning_tokens)

    @classmethod
    def of_usage(cls, usage: Usage) -> TokenCounts:
        """The counts of one answer's usage."""
        u = usage
        return cls(u.input_tokens or 0, u.cached_tokens or 0, u.output_tokens or 0, u.reasoning_tokens or 0)


def answer_cost(tokens: TokenCounts, deployment: Deployment | None) -> float | None:
    """The estimated cost of these tokens at the deployment's prices, or None when it has no input/output price."""
    if deployment is None or deployment.input_price is None or deployment.output_price is None:
        return None
    input_price, output_price = deployment.input_price, deployment.output_price
    cached = min(tokens.cached, tokens.input)
    cached_price = deployment.cached_input_price if deployment.cached_input_price is not None else input_price
    paid = (tokens.input - cached) * input_price + cached * cached_price + tokens.output * output_price
    return paid / 1_000_000


def _decimals(values: Iterable[float]) -> int:
    """Cents, or four decimals when some amount is below a cent (one answer often is): never 'about USD 0.00'."""
    return 4 if any(0 < v < 0.01 for v in values) else 2


def money_text(amounts: Money, decimals: int | None = None) -> str:
    """'about USD 1.23' (one amount per currency), or '' when there is nothing to show."""
    if not amounts:
        return ""
    places = _decimals(amounts.values()) if decimals is None else decimals
    return "about " + " + ".join(f"{currency} {value:,.{places}f}" for currency, value in sorted(amounts.items()))


def _add(amounts: Money, currency: str, value: float) -> None:
    amounts[currency] = amounts.get(currency, 0.0) + value


def tokens_text(count: int) -> str:
    """'1 token', '12,345 tokens'."""
    return f"{count:,} token" + ("" if count == 1 else "s")


def breakdown(tokens: TokenCounts) -> str:
    """'Input 1,200 (800 cached) · Output 300 (120 reasoning)'."""
    cached = f" ({tokens.cached:,} cached)" if tokens.cached else ""
    reasoning = f" ({tokens.reasoning:,} reasoning)" if tokens.reasoning else ""
    return f"Input {tokens.input:,}{cached} · Output {tokens.output:,}{reasoning}"


@dataclass(frozen=True)
class UsageTableRow:
    """One line of the Usage view's table: a day and a model."""

    day: date
    model: str
    answers: int
    tokens: TokenCounts
    cost: str  # '' without a price for this model


@dataclass(frozen=True)
class UsageSummary:
    """What the Usage view shows: tokens per day and model over `days` (oldest first), the table, and costs."""

    days: tuple[date, ...]
    models: tuple[str, ...]  # most tokens first
    per_day: dict[tuple[date, str], int]  # total tokens of a model on a day
    rows: tuple[UsageTableRow, ...]  # newest day first
    total: TokenCounts
    answers: int
    priced: bool  # some deployment has prices: costs are shown
    period_cost: str  # '' without prices
    month_cost: str  # this calendar month, '' without prices
    unpriced_answers: int  # answers of models without a price, left out of the costs


class UsageService:
    """Reads usage from the history and prices from the settings; Qt-free, used from the event-loop thread."""

    def __init__(
        self,
        store: HistoryStore,
        configuration: Configuration,
        *,
        tz: tzinfo | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._configuration = configuration
        self._tz = tz
        self._clock = clock

    # -- prices ------------------------------------------------------------------------------------------------------

    def _deployment(self, profile_id: str | None, deployment: str | None) -> tuple[Deployment | None, str]:
        profile = self._configuration.settings.profile(profile_id)
        if profile is None or not deployment:
            return None, ""
        found = next((d for d in profile.deployments if d.name == deployment), None)
        return found, profile.currency

    def has_prices(self) -> bool:
        """Whether any deployment of any connection has prices (otherwise no money is shown anywhere)."""
        return any(
            d.input_price is not None and d.output_price is not None
            for p in self._configuration.settings.profiles
            for d in p.deployments
        )

    def _cost(self, rows: Iterable[UsageRow]) -> tuple[Money, int]:
        amounts: Money = {}
        unpriced = 0
        for row in rows:
            deployment, currency = self._deployment(row.profile_id, row.deployment)
            cost = answer_cost(TokenCounts.of_row(row), deployment)
            if cost is None:
                unpriced += row.answers
            else:
                _add(amounts, currency, cost)
        return amounts, unpriced

    # -- one answer, one conversation --------------------------------------------------------------------------------

    def answer_lines(self, message: Message, profile_id: str | None) -> list[str]:
        """Lines for an answer's Details: its estimated cost (with prices) and the privacy note (sent answers)."""
        lines = []
        if message.usage is not None:
            deployment, currency = self._deployment(profile_id, message.deployment)
            cost = answer_cost(TokenCounts.of_usage(message.usage), deployment)
            if cost is not None:
                lines.append(f"Estimated cost: {money_text({currency: cost})} (from the prices in Settings)")
        if message.api is not None:
            lines.append(NOT_STORED_NOTE)
        return lines

    def conversation_line(self, conversation_id: int | None) -> tuple[str, str]:
        """A quiet line for the conversation's header ('1,234 tokens · about USD 0.02, estimated') and its
        tooltip (the breakdown); ('', '') before any answer reported usage."""
        if conversation_id is None:
            return "", ""
        rows = self._store.conversation_usage(conversation_id)
        if not rows:
            return "", ""
        tokens = sum((TokenCounts.of_row(r) for r in rows), TokenCounts())
        text = tokens_text(tokens.total)
        tip = breakdown(tokens)
        amounts, unpriced = self._cost(rows)
        if amounts:
            text += f" · {money_text(amounts)}, estimated"
            tip += "\n" + ESTIMATE_NOTE
            if unpriced:
                tip += f"\nAnswers from models without a price are not counted ({unpriced})."
        return text, tip

    # -- the Usage view ----------------------------------------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        """The start of a local day, as an aware time (DST included)."""
        if self._tz is None:  # the system's zone: a naive time is read as local time
            return datetime.combine(day, time.min).astimezone()
        return datetime.combine(day, time.min, self._tz)

    def summary(self, days: int = 30) -> UsageSummary:
        """Tokens per day and model over the last `days` days (today included), with costs when priced."""
        today = self._clock().astimezone(self._tz).date()
        first = today - timedelta(days=days - 1)
        month_start = today.replace(day=1)
        since_day = min(first, month_start)
        span = (today - since_day).days + 2  # every day from since_day to today, and the end of today
        boundaries = [self._midnight(since_day + timedelta(days=i)) for i in range(span)]
        rows = [(r.when.astimezone(self._tz).date(), r) for r in self._store.usage_per_period(boundaries) if r.when]
        in_period = [(day, r) for day, r in rows if day >= first]
        per_key: dict[tuple[date, str], list[UsageRow]] = {}
        for day, row in in_period:
            per_key.setdefault((day, row.deployment or row.model or UNKNOWN_MODEL), []).append(row)
        per_day = {key: sum(TokenCounts.of_row(r).total for r in group) for key, group in per_key.items()}
        by_model: dict[str, int] = {}
        for (_day, model), total in per_day.items():
            by_model[model] = by_model.get(model, 0) + total
        models = tuple(sorted(by_model, key=lambda m: (-by_model[m], m)))
        priced = self.has_prices()
        costs = {key: self._cost(group)[0] if priced else {} for key, group in per_key.items()}
        places = _decimals(v for amounts in costs.values() for v in amounts.values())  # one precision for the column
        table = [
            UsageTableRow(
                day,
                model,
                sum(r.answers for r in group),
                sum((TokenCounts.of_row(r) for r in group), TokenCounts()),
                money_text(costs[day, model], places),
            )
            for (day, model), group in per_key.items()
        ]
        table.sort(key=lambda row: (row.day, row.tokens.total), reverse=True)
        period_amounts, unpriced = self._cost(r for _, r in in_period) if priced else ({}, 0)
        month_amounts, _ = self._cost(r for day, r in rows if day >= month_start) if priced else ({}, 0)
        return UsageSummary(
            days=tuple(first + timedelta(days=i) for i in range(days)),
            models=models,
            per_day=per_day,
            rows=tuple(table),
            total=sum((TokenCounts.of_row(r) for _, r in in_period), TokenCounts()),
            answers=sum(r.answers for _, r in in_period),
            priced=priced,
            period_cost=money_text(period_amounts) if priced else "",
            month_cost=money_text(month_amounts or {}) if priced else "",
            unpriced_answers=unpriced,
        )
