"""Deterministic answers: canned texts chosen from the prompt, split into deltas; magic words in prompts."""

from __future__ import annotations

import re
import zlib
from itertools import cycle, islice
from typing import Any

from ._config import Fault, FaultKind

RICH_ANSWER = """# A tour of what answers may contain

Here is a paragraph with **bold**, *italic*, `inline code` and a [link](https://learn.microsoft.com/azure/ai-services/openai/).

## Lists

1. First, an ordered item
2. Second, with a nested list:
   - bullet one
   - bullet two

## A table

| Model | API | Streams |
|---|---|:---:|
| gpt-4.1 | Responses, Chat | yes |
| gpt-4o-mini | Chat | yes |
| o4-mini | Responses, Chat | yes |

## Code

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

```javascript
const total = [1, 2, 3].reduce((a, b) => a + b, 0);
console.log(`total = ${total}`);
```

```bash
curl -s "$ENDPOINT/openai/v1/models" -H "api-key: $KEY" | jq '.data[].id'
```

{long_line}

Non-ASCII: 日本語のテキスト, 中文文本, 한국어, Ελληνικά, Ünïcödé,
emoji 🎉🚀👩\u200d💻, and a line\u2028separator inside one string.
""".replace(
    "{long_line}", "A long line that goes on without a break so that wrapping gets exercised: " + "lorem ipsum " * 20
)

CODE_ANSWER = """Here is the same function in three languages.

```python
def add(a: int, b: int) -> int:
    return a + b
```

```rust
fn add(a: i32, b: i32) -> i32 {
    a + b
}
```

```sql
SELECT name, COUNT(*) AS turns FROM messages GROUP BY name ORDER BY turns DESC;
```
"""

SHORT_ANSWER = "Hello! I am the Azure OpenAI simulator. Ask me anything: I answer deterministically."

_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("markdown", RICH_ANSWER),
    ("table", RICH_ANSWER),
    ("demo", RICH_ANSWER),
    ("code", CODE_ANSWER),
    ("hello", SHORT_ANSWER),
)

# CJK and Hangul characters are one delta each (there are no spaces to split on); other text splits after spaces.
_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef]\s*|[^\s\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef]+\s*|\s+"
)
_MAGIC = re.compile(r"\[\[(fault|deltas):([a-z0-9-]+)(?::([0-9.]+))?\]\]")

_MAGIC_FAULTS: dict[str, FaultKind] = {kind.value: kind for kind in FaultKind if kind is not FaultKind.STATUS}


def choose_answer(prompt: str) -> str:
    """A canned answer picked by keyword, else by a stable hash of the prompt, after an echo of the question."""
    lowered = prompt.lower()
    for word, answer in _KEYWORDS:
        if word in lowered:
            return answer
    canned = (SHORT_ANSWER, RICH_ANSWER, CODE_ANSWER)
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else "(an empty message)"
    return f"You asked: “{first_line}”\n\n" + canned[zlib.crc32(prompt.encode("utf-8")) % len(canned)]


def split_deltas(text: str) -> list[str]:
    """Split text into deltas (roughly tokens); joining them gives the text back."""
    return _TOKEN.findall(text) or [text]


def stretch_deltas(deltas: list[str], count: int) -> list[str]:
    """Exactly `count` deltas, cycling through `deltas` (for benchmarks asking for very long answers)."""
    return list(islice(cycle(deltas), count)) if deltas else []


def count_tokens(text: str) -> int:
    """A rough token count (four characters a token), enough for plausible usage numbers."""
    return max(1, len(text) // 4)


def parse_magic(prompt: str) -> tuple[Fault | None, int | None]:
    """The fault (`[[fault:NAME[:ARG]]]`) and answer length (`[[deltas:N]]`) a prompt asks for, if any."""
    fault: Fault | None = None
    deltas: int | None = None
    for what, name, arg in _MAGIC.findall(prompt):
        if what == "deltas" and name.isdigit():
            deltas = int(name)
        elif what == "fault" and name.isdigit():
            headers = {"retry-after": arg} if arg else {}
            fault = Fault(FaultKind.STATUS, status=int(name), headers=headers)
        elif what == "fault" and name in _MAGIC_FAULTS:
            kind = _MAGIC_FAULTS[name]
            number = float(arg) if arg else 0.0
            fault = Fault(
                kind,
                status=502 if kind is FaultKind.GATEWAY_HTML else 500,
                after_deltas=int(number) if arg else 3,
                seconds=number,
            )
    return fault, deltas


def text_of(content: Any) -> str:
    """The text of a message content: a string or a list of text parts (other parts ignored)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def last_user_text(messages: Any) -> str:
    """The text of the last user message in a Responses `input` or a Chat `messages` list."""
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role", "user") == "user":
                return text_of(message.get("content"))
    return ""


def all_text(messages: Any) -> str:
    """Every text of an input or message list, for the prompt token count."""
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list):
        return "\n".join(text_of(m.get("content")) for m in messages if isinstance(m, dict))
    return ""
