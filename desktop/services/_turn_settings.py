"""What a conversation's next turn is asked with: its reasoning effort and its instructions preset.

The reasoning efforts offered are those the deployment's real model accepts (its family's `efforts`); a model the app
does not know, or one that does not reason, gets none and the reason in words. A preset is a named set of
instructions: "No instructions", the connection's own default instructions, and a few built-in ones. The chosen
preset's name is kept in the conversation's params (`preset`), the effort in `reasoning_effort`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from desktop.config import InstructionsPreset, Profile
from desktop.lazy_dataclass import dataclass
from desktop.services._model_families import family_for

__all__ = [
    "BUILT_IN_PRESETS",
    "CUSTOM_PRESET",
    "NO_EFFORTS",
    "NO_INSTRUCTIONS",
    "RESERVED_NAMES",
    "Efforts",
    "efforts_for",
    "preset_of",
    "presets_for",
]

PRESET_KEY = "preset"
EFFORT_KEY = "reasoning_effort"
NO_INSTRUCTIONS = "No instructions"
CONNECTION_DEFAULT = "Connection default"
CUSTOM_PRESET = "Custom"  # instructions the user wrote that match no preset


BUILT_IN_PRESETS: tuple[InstructionsPreset, ...] = (
    InstructionsPreset("Default assistant", "You are a helpful assistant."),
    InstructionsPreset("Concise", "Answer briefly and precisely. Prefer short paragraphs and lists."),
    InstructionsPreset(
        "Explain like I'm new", "Explain in plain words for someone new to the topic. Avoid jargon; give examples."
    ),
    InstructionsPreset(
        "Code reviewer", "Review code carefully: point out bugs, risks and clearer alternatives, with examples."
    ),
    InstructionsPreset(
        "Translator", "Translate the user's text. Keep meaning and tone; ask which language if unclear."
    ),
)


RESERVED_NAMES: tuple[str, ...] = (
    NO_INSTRUCTIONS,
    CONNECTION_DEFAULT,
    CUSTOM_PRESET,
    *(p.name for p in BUILT_IN_PRESETS),
)
"""Names the app's own presets use: a preset the user saves takes another."""


@dataclass(frozen=True)
class Efforts:
    """The reasoning efforts a deployment offers: `values` in increasing order (empty: none), `why_none` when empty,
    and `default` the connection's default effort when the model accepts it."""

    values: tuple[str, ...]
    why_none: str = ""
    default: str | None = None


NO_EFFORTS = Efforts(())


def efforts_for(profile: Profile | None, deployment: str | None) -> Efforts:
    """The efforts the model behind `deployment` accepts (never a value it refuses)."""
    known = next((d for d in profile.deployments if d.name == deployment), None) if profile else None
    model = known.model_name if known is not None else None
    family = family_for(model)
    if family.efforts:
        wanted = profile.chat_defaults.reasoning_effort if profile else None
        return Efforts(family.efforts, default=family.effort(wanted))
    if not model:
        why = (
            "The model behind this deployment is not known yet, so the app does not choose a reasoning effort: "
            "the service's default applies."
        )
    else:
        why = f"{model} does not take a reasoning effort."
    return Efforts((), why)


def presets_for(profile: Profile | None, saved: Sequence[InstructionsPreset] = ()) -> tuple[InstructionsPreset, ...]:
    """The presets offered for a conversation on `profile`: none, the connection's default (if any), the built-in
    ones, then the user's own (`saved`, from Settings); a name is offered once (the first wins)."""
    presets = [InstructionsPreset(NO_INSTRUCTIONS, "")]
    default = profile.chat_defaults.instructions.strip() if profile else ""
    if default:
        presets.append(InstructionsPreset(CONNECTION_DEFAULT, default))
    for preset in (*BUILT_IN_PRESETS, *saved):
        if preset.text != default and all(p.name != preset.name for p in presets):
            presets.append(preset)
    return tuple(presets)


def preset_of(
    params: Mapping[str, Any],
    instructions: str,
    profile: Profile | None,
    saved: Sequence[InstructionsPreset] = (),
) -> str:
    """The name of the preset a conversation uses: the one chosen if its instructions still match, else the first
    whose text matches, else "Custom" (instructions the user wrote)."""
    presets = presets_for(profile, saved)
    chosen = params.get(PRESET_KEY)
    text = instructions.strip()
    if chosen == NO_INSTRUCTIONS and not text:
        return NO_INSTRUCTIONS
    if not text and chosen != NO_INSTRUCTIONS:
        text = profile.chat_defaults.instructions.strip() if profile else ""  # an empty text means the default
    match = next((p for p in presets if p.name == chosen and p.text == text), None)
    match = match or next((p for p in presets if p.text == text), None)
    return match.name if match is not None else CUSTOM_PRESET
