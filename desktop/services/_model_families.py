"""What each model behind a deployment accepts: one table, looked up by the model's real name.

On Azure a deployment's name is an alias an administrator chose ("Sales-GPT"), so nothing here ever looks at it:
the model's name comes from the resource (ARM's `properties.model`, the data plane's deployment listing) or from
the `model` field of an answer. A model the table does not know gets `SAFE`: both APIs tried, the modern parameter
names, no reasoning options; what it still refuses is learned from its 400 and remembered per deployment.

Facts behind the rows (Azure OpenAI's "reasoning models" page, learn.microsoft.com/azure/ai-foundry/openai/how-to/
reasoning, January 2026 version, and its "Not supported" list; error bodies as Azure sends them):
- classic chat models (gpt-35-turbo, gpt-4, gpt-4o, gpt-4.1, the *-chat variants of gpt-5) take temperature and
  top_p, a `system` message, and no reasoning effort; gpt-35-turbo and gpt-4 answer only Chat Completions;
- reasoning models (o-series, gpt-5) refuse temperature/top_p and `max_tokens` (they take `max_completion_tokens`),
  take their instructions as a `developer` message, and accept only some reasoning-effort values: `minimal` exists
  from gpt-5 on, `none` only from gpt-5.1 on; o1-mini and o1-preview take no effort and no system/developer message;
- reasoning summaries ("thinking") stream on the Responses API for o3, o4-mini, codex and gpt-5 models;
- gpt-5-pro, o3-pro and the codex models answer only through the Responses API, and the pro models can think for
  minutes before their first word;
- o1, o3-pro and gpt-5-pro do not stream ("Streaming: -"; Azure answers `stream: true` with 400 `unsupported_value`
  "'stream' does not support true with this model"): their answer arrives whole. Azure recommends its background mode
  for o3-pro "to avoid timeouts"; gpt-5-pro takes only the effort `high`; o3-pro has no reasoning summary;
- every codex model reads images (the table's "Image input" row).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

from desktop.lazy_dataclass import dataclass

Api = Literal["responses", "chat"]

LONG_THINKING_TIMEOUT = 1800.0
"""The least time, in seconds, a long-thinking model may take between two bytes of its answer (those that do not stream
send nothing until the end)."""
InstructionsRole = Literal["system", "developer", "user"]


@dataclass(frozen=True)
class ModelFamily:
    """The parameters a family of models accepts.

    - `apis`: the APIs it answers, preferred first.
    - `sampling`: whether temperature and top_p may be sent.
    - `chat_max_tokens`: the Chat Completions name of the output limit (Responses always says `max_output_tokens`).
    - `instructions_role`: the Chat Completions role of the instructions (`user` = folded into the first message).
    - `efforts`: the reasoning-effort values it accepts, in increasing order (empty: send none).
    - `summaries`: whether it can stream a reasoning summary on the Responses API.
    - `reads_files`: whether it reads images and PDF files sent as input.
    - `long_thinking`: whether it may think for minutes before the first word.
    - `streams`: whether it streams its answer (False: the answer is asked for whole).
    """

    name: str
    apis: tuple[Api, ...] = ("responses", "chat")
    sampling: bool = True
    chat_max_tokens: Literal["max_tokens", "max_completion_tokens"] = "max_completion_tokens"
    instructions_role: InstructionsRole = "system"
    efforts: tuple[str, ...] = ()
    summaries: bool = False
    reads_files: bool = True
    long_thinking: bool = False
    streams: bool = True

    @property
    def reasoning(self) -> bool:
        """Whether the model reasons before it answers (it takes an effort)."""
        return bool(self.efforts)

    def effort(self, wanted: str | None) -> str | None:
        """The effort to send for the user's choice: None when the model takes none or the choice is not allowed."""
        return wanted if wanted in self.efforts else None


_O_EFFORTS = ("low", "medium", "high")
_GPT5_EFFORTS = ("minimal", "low", "medium", "high")
_GPT51_EFFORTS = ("none", "low", "medium", "high")

SAFE = ModelFamily("unknown model")
CLASSIC = ModelFamily("chat model")
CLASSIC_CHAT_ONLY = ModelFamily("older chat model", apis=("chat",), chat_max_tokens="max_tokens", reads_files=False)
O_EARLY = ModelFamily(
    "early reasoning model",
    apis=("chat",),
    sampling=False,
    instructions_role="user",
    reads_files=False,
)
# Reasoning models: no sampling parameters, instructions as the developer role, an effort; the rows below vary that.
_REASONING = ModelFamily("reasoning model", sampling=False, instructions_role="developer", efforts=_O_EFFORTS)
O1 = replace(_REASONING, streams=False)
O_MINI = replace(_REASONING, reads_files=False)
O_SUMMARY = replace(_REASONING, summaries=True)
GPT5 = replace(O_SUMMARY, efforts=_GPT5_EFFORTS)
GPT51 = replace(O_SUMMARY, efforts=_GPT51_EFFORTS)
CODEX = replace(O_SUMMARY, name="coding model", apis=("responses",))
O3_PRO = replace(_REASONING, name="long-thinking model", apis=("responses",), long_thinking=True, streams=False)
PRO = replace(O3_PRO, efforts=("high",), summaries=True)

# First match wins: more specific names before their prefixes (gpt-5-chat before gpt-5, o3-pro before o3).
_TABLE: tuple[tuple[str, ModelFamily], ...] = (
    # Audio, speech and realtime models: Chat Completions at most, and no files.
    (r"gpt-[\w.-]*?(audio|realtime|transcribe|tts)", CLASSIC_CHAT_ONLY),
    (r"gpt-5(\.\d+)?-chat", CLASSIC),
    (r"gpt-5(\.\d+)?-pro", PRO),
    (r"(gpt-5(\.\d+)?-)?codex", CODEX),
    (r"gpt-5\.\d+", GPT51),
    (r"gpt-5", GPT5),
    (r"o3-pro", O3_PRO),
    (r"o1-(mini|preview)", O_EARLY),
    (r"o1", O1),
    (r"o3-mini", O_MINI),
    (r"o3|o4-mini", O_SUMMARY),
    (r"gpt-4o|gpt-4\.1|gpt-4\.5|chatgpt-4o", CLASSIC),
    (r"gpt-35-turbo|gpt-3\.5-turbo|gpt-4", CLASSIC_CHAT_ONLY),
)
# A name matches a row when the row's pattern is the whole name or is followed by "-" (gpt-4o matches gpt-4o-mini;
# gpt-4 does not match gpt-4o or gpt-4.1).
_COMPILED = tuple((re.compile(rf"(?:{pattern})(?:-|$)"), family) for pattern, family in _TABLE)
_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def normalise_model(name: str | None) -> str:
    """A model name as the table knows it: lower case, without Azure's `-YYYY-MM-DD` version suffix."""
    return _DATE.sub("", (name or "").strip().lower())


def split_model(reported: str | None) -> tuple[str, str | None]:
    """A model name as an answer reports it (`gpt-4.1-2025-04-14`) split into name and version (`2025-04-14`)."""
    text = (reported or "").strip()
    found = _DATE.search(text)
    return (text[: found.start()], found.group(0)[1:]) if found else (text, None)


def family_for(model: str | None) -> ModelFamily:
    """The family of a model by its real name (`gpt-4.1`, `o4-mini-2025-04-16`); `SAFE` when unknown or None."""
    name = normalise_model(model)
    if not name:
        return SAFE
    for pattern, family in _COMPILED:
        if pattern.match(name):
            return family
    return SAFE
