"""Every sentence the app shows about a failure, with the trigger of each: the one place for these words.

`WORDS` is the table: a key, the title and text (with `{placeholders}`), the one action offered, whose problem it
is (`Category`), and the trigger in plain words. The classifier (desktop.services._problems) picks a row, the chat
stores the result with the failed message, and the README's "When Azure says no" section is checked against the
table (tests/services/test_words.py). Light: no client, no auth, no Qt.

Sign-in problems keep the words of the sign-in module (desktop.auth); the row `sign_in` stands for all of them.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from string import Formatter

from desktop.lazy_dataclass import dataclass
from desktop.services._user_error import Category, ErrorAction

__all__ = ["WORDS", "Wording", "duration_words", "say", "tr", "wording"]

_DOMAIN = "azure-openai-chat"


@cache
def _catalog() -> gettext.NullTranslations:
    return gettext.translation(_DOMAIN, localedir=Path(__file__).resolve().parent.parent / "locale", fallback=True)


def tr(text: str) -> str:
    """The translation of a sentence for the user's language (the sentence itself when none is installed)."""
    return _catalog().gettext(text)


@dataclass(frozen=True)
class Wording:
    """One failure sentence: `title` and `text` (with `{placeholders}`), its action, category and trigger."""

    key: str
    title: str
    text: str
    action: ErrorAction
    category: Category
    trigger: str


_ROWS = (
    # ---- this computer -------------------------------------------------------------------------------------------
    Wording(
        "keyring_unavailable",
        "The password store is not available",
        "{message} You can keep the key for this session only (Settings → Connection).",
        ErrorAction.OPEN_SETTINGS,
        Category.LOCAL,
        "The system's password store (keyring) cannot be used.",
    ),
    Wording(
        "sign_in_local_server",
        "The sign-in could not start on this computer",
        "The app could not start the small helper on this computer that receives the sign-in from your browser "
        "(another program may be using it, or security software blocks it). Sign in with a code instead.",
        ErrorAction.SIGN_IN,
        Category.LOCAL,
        "The local sign-in server (on 127.0.0.1) cannot start: its port is taken or blocked.",
    ),
    Wording(
        "sign_in",
        "{title}",
        "{text}",
        ErrorAction.SIGN_IN,
        Category.SIGN_IN,
        "Any other sign-in problem: the sign-in module's own words (desktop/auth/_entra_problems.py).",
    ),
    Wording(
        "history_not_saved",
        "The answer could not be saved",
        "{message}",
        ErrorAction.COPY_DETAILS,
        Category.LOCAL,
        "The chat history could not be written (disk full, read-only folder).",
    ),
    # ---- our own bug ---------------------------------------------------------------------------------------------
    Wording(
        "bug",
        "Something went wrong inside the app",
        "This is a fault in the app itself, not in your network or at Azure. Your conversation is saved. Copy the "
        "details and send them to your IT support.",
        ErrorAction.COPY_DETAILS,
        Category.BUG,
        "An exception the app did not expect (the traceback goes to the log only).",
    ),
    # ---- Azure refused the request -------------------------------------------------------------------------------
    Wording(
        "content_filter",
        "Blocked by the content filter",
        "Your organisation's Azure content filter did not let this message through.{flagged} Rephrase it, or "
        "continue the conversation without it.",
        ErrorAction.LEAVE_OUT,
        Category.CONTENT_FILTER,
        "400 with code content_filter, inner code ResponsibleAIPolicyViolation, or filter results marked filtered.",
    ),
    Wording(
        "answer_filtered",
        "The answer was stopped by the content filter",
        "{flagged_answer}Rephrase your message, or continue the conversation without it.",
        ErrorAction.LEAVE_OUT,
        Category.CONTENT_FILTER,
        "The answer stream ended with finish reason content_filter (or an incomplete response for that reason).",
    ),
    Wording(
        "answer_interrupted",
        "The answer was interrupted",
        "The app or the computer stopped while it arrived; the part received is kept. Try again for a whole answer.",
        ErrorAction.RETRY,
        Category.ANSWER,
        "An answer still arriving when the history was last closed (found at the next start).",
    ),
    Wording(
        "answer_stopped",
        "Stopped",
        "The answer above is incomplete.",
        ErrorAction.NONE,
        Category.ANSWER,
        "You pressed Stop (or Esc) after some words had arrived.",
    ),
    Wording(
        "answer_stopped_empty",
        "Stopped",
        "You stopped it before the answer began.",
        ErrorAction.NONE,
        Category.ANSWER,
        "You pressed Stop (or Esc) before any words arrived, e.g. during a wait before a retry.",
    ),
    Wording(
        "tenant_mismatch",
        "Signed in to a different organisation",
        "Your sign-in belongs to another organisation (tenant) than this Azure resource. In Settings, enter the "
        "resource's tenant under Advanced and sign in again.",
        ErrorAction.OPEN_SETTINGS,
        Category.SIGN_IN,
        "400 or 401 saying the tenant in the token does not match the resource's.",
    ),
    Wording(
        "context_too_long",
        "This conversation is too long",
        "The conversation no longer fits into what the model can read at once. Start a new chat, or delete or "
        "shorten earlier messages.",
        ErrorAction.SHORTEN,
        Category.REQUEST,
        "400 with code context_length_exceeded or a message about the maximum context length.",
    ),
    Wording(
        "unsupported_setting",
        "This deployment does not accept these settings",
        "Azure refused a setting for this deployment ({message}). Change the chat settings for this deployment, or "
        "pick another deployment.",
        ErrorAction.OPEN_SETTINGS,
        Category.REQUEST,
        "400 with code unsupported_parameter or unsupported_value, or naming a parameter.",
    ),
    Wording(
        "bad_request",
        "Azure could not accept this request",
        "Azure said: {message}",
        ErrorAction.CONTACT_ADMIN,
        Category.REQUEST,
        "Any other 400.",
    ),
    Wording(
        "missing_role",
        "Your account has no access to this resource yet",
        "You are signed in, but your account lacks the role “Cognitive Services OpenAI User” on {resource}. Ask "
        "your administrator to assign it; a new role can take up to 5 minutes to apply.",
        ErrorAction.CONTACT_ADMIN,
        Category.ACCESS,
        "401 with code PermissionDenied or a message that the identity lacks the required data action.",
    ),
    Wording(
        "bad_key",
        "The API key was not accepted",
        "Azure did not accept the key for this address. Check that the key and the address come from the same "
        "Azure resource, and paste the key again in Settings.",
        ErrorAction.OPEN_SETTINGS,
        Category.ACCESS,
        "401 on a connection that uses an API key.",
    ),
    Wording(
        "sign_in_expired",
        "Please sign in again",
        "Your sign-in has expired or is not valid for this Azure resource. Sign in again to continue.",
        ErrorAction.SIGN_IN,
        Category.SIGN_IN,
        "401 on a connection that uses Microsoft sign-in.",
    ),
    Wording(
        "access_blocked",
        "Access to this resource is blocked",
        "Azure refused access, often because the resource only accepts connections from your organisation's "
        "network. Connect to your company network or VPN, or ask your administrator.",
        ErrorAction.CONTACT_ADMIN,
        Category.ACCESS,
        "403 from Azure (a JSON body): firewall or virtual network rules.",
    ),
    Wording(
        "deployment_not_found",
        "This deployment does not exist",
        "The deployment {deployment_name}was not found on this Azure resource. It may have been renamed or "
        "removed. Pick another deployment in Settings.",
        ErrorAction.OPEN_SETTINGS,
        Category.NOT_FOUND,
        "404 with code DeploymentNotFound or a message about the deployment.",
    ),
    Wording(
        "address_not_found",
        "This address does not lead to Azure OpenAI",
        "Azure answered that the address was not found. Check the resource address in Settings.",
        ErrorAction.OPEN_SETTINGS,
        Category.NOT_FOUND,
        "Any other 404.",
    ),
    # ---- rate limits (429) ---------------------------------------------------------------------------------------
    Wording(
        "rate_requests_wait",
        "Too many requests this minute",
        "This deployment accepts a limited number of requests per minute, and that many were just sent. Wait {wait}, "
        "then try again.",
        ErrorAction.WAIT_AND_RETRY,
        Category.RATE_LIMIT,
        "429 for the requests-per-minute limit (“call rate limit”, or no requests left) with a wait of 60 s or less.",
    ),
    Wording(
        "rate_tokens_wait",
        "Too much text this minute",
        "This deployment accepts a limited number of tokens (pieces of words) per minute, and this request would go "
        "over it. Wait {wait}, then try again.",
        ErrorAction.WAIT_AND_RETRY,
        Category.RATE_LIMIT,
        "429 for the tokens-per-minute limit (“token rate limit”, or no tokens left) with a wait of 60 s or less.",
    ),
    Wording(
        "rate_wait",
        "Azure is busy (rate limit)",
        "This deployment has reached its usage limit for the moment. Wait {wait}, then try again.",
        ErrorAction.WAIT_AND_RETRY,
        Category.RATE_LIMIT,
        "429 of an unknown kind with a wait of 60 s or less.",
    ),
    Wording(
        "rate_requests_later",
        "Too many requests for now",
        "This deployment has reached its limit of requests per minute and asks for a wait of {wait}. Try again "
        "after {until} UTC, or pick another deployment.",
        ErrorAction.RETRY,
        Category.RATE_LIMIT,
        "429 for the requests-per-minute limit with a wait over 60 s (no automatic retry).",
    ),
    Wording(
        "rate_tokens_later",
        "Too much text for now",
        "This deployment has reached its limit of tokens per minute and asks for a wait of {wait}. Try again after "
        "{until} UTC, or pick another deployment.",
        ErrorAction.RETRY,
        Category.RATE_LIMIT,
        "429 for the tokens-per-minute limit with a wait over 60 s and under an hour (no automatic retry).",
    ),
    Wording(
        "rate_later",
        "Azure is busy (rate limit)",
        "This deployment has reached its usage limit and asks for a wait of {wait}. Try again after {until} UTC, or "
        "pick another deployment.",
        ErrorAction.RETRY,
        Category.RATE_LIMIT,
        "429 of an unknown kind with a wait over 60 s and under an hour (no automatic retry).",
    ),
    Wording(
        "rate_never_fits",
        "This request is larger than the deployment allows",
        "This request alone needs more tokens than the deployment accepts per minute, so waiting will not help "
        "(Azure asked for a wait of {wait}). The answer limit counts toward it: shorten the answer limit, or pick "
        "another deployment of this connection.",
        ErrorAction.SHORTEN_ANSWER_LIMIT,
        Category.RATE_LIMIT,
        "429 with a wait of an hour or more (often a day): the request can never fit the tokens-per-minute limit.",
    ),
    Wording(
        "rate_quota",
        "The usage quota is used up",
        "Your organisation's Azure quota for this deployment is used up. Ask your administrator to raise the quota, "
        "or pick another deployment.",
        ErrorAction.CONTACT_ADMIN,
        Category.RATE_LIMIT,
        "429 with code insufficient_quota or a message that the quota is exceeded or exhausted.",
    ),
    Wording(
        "rate_no_time",
        "Azure is busy (rate limit)",
        "This deployment has reached its usage limit for the moment. Wait a little and try again.",
        ErrorAction.RETRY,
        Category.RATE_LIMIT,
        "429 without a retry-after header or a wait in the message.",
    ),
    # ---- Azure (or a gateway) failed -----------------------------------------------------------------------------
    Wording(
        "conflict",
        "Azure could not process this request",
        "Azure said: {message} Try again; if it keeps happening, contact your administrator.",
        ErrorAction.RETRY,
        Category.SERVICE,
        "409 or 422.",
    ),
    Wording(
        "unavailable",
        "Azure is temporarily unavailable",
        "The service is overloaded or under maintenance. Try again in a moment.",
        ErrorAction.RETRY,
        Category.SERVICE,
        "503 from Azure.",
    ),
    Wording(
        "gateway_timeout",
        "Azure took too long to answer",
        "A gateway gave up waiting for the model. Try again in a moment.",
        ErrorAction.RETRY,
        Category.SERVICE,
        "504 from Azure.",
    ),
    Wording(
        "bad_gateway",
        "A gateway in front of Azure failed",
        "The request did not reach the model. Try again in a moment.",
        ErrorAction.RETRY,
        Category.SERVICE,
        "502 from Azure (a JSON body).",
    ),
    Wording(
        "server_error",
        "Azure had a problem",
        "The service failed while handling this request. Try again in a moment.",
        ErrorAction.RETRY,
        Category.SERVICE,
        "Any other status of 500 or more.",
    ),
    Wording(
        "refused",
        "Azure refused this request",
        "Azure answered with error {status}: {message}",
        ErrorAction.CONTACT_ADMIN,
        Category.SERVICE,
        "Any other error status.",
    ),
    # ---- the way to Azure ----------------------------------------------------------------------------------------
    Wording(
        "proxy_page",
        "A proxy or firewall answered instead of Azure",
        "Something on your network (often a company proxy or firewall) sent its own web page instead of Azure's "
        "answer. Check the proxy in Settings, or ask IT to let the app reach Azure.",
        ErrorAction.OPEN_SETTINGS,
        Category.PROXY,
        "An HTML page (content type text/html) instead of Azure's JSON: as an error status, a reply or a stream.",
    ),
    Wording(
        "certificate",
        "Your network's security certificate is not trusted",
        "A device on your network (often a company proxy) replaced Azure's certificate with one this computer does "
        "not trust. Ask IT to install your organisation's certificate.",
        ErrorAction.CONTACT_ADMIN,
        Category.PROXY,
        "The TLS certificate could not be verified (self-signed or unknown issuer).",
    ),
    Wording(
        "proxy_refused",
        "The proxy did not let the connection through",
        "Check the proxy in Settings, or ask IT which proxy to use.",
        ErrorAction.OPEN_SETTINGS,
        Category.PROXY,
        "The connection failed at the proxy.",
    ),
    Wording(
        "cannot_reach",
        "Cannot reach Azure",
        "The app could not connect to your Azure resource. Check your internet connection or VPN, and the address "
        "in Settings.",
        ErrorAction.RETRY,
        Category.NETWORK,
        "No connection could be made: DNS, refused, unreachable, or no connection within the time limit.",
    ),
    Wording(
        "no_answer_in_time",
        "No answer in time",
        "Azure was reached but did not answer in time. Try again; you can raise the time limit in Settings.",
        ErrorAction.RETRY,
        Category.NETWORK,
        "A connection was made but no answer arrived within the time limit.",
    ),
    Wording(
        "connection_broke",
        "The connection broke",
        "Azure was reached, but the connection broke before the answer began. Try again; if it keeps happening, "
        "something on your network may be cutting connections.",
        ErrorAction.RETRY,
        Category.NETWORK,
        "The connection closed or reset after it was made, before any words of the answer arrived.",
    ),
    # ---- the answer itself ---------------------------------------------------------------------------------------
    Wording(
        "cut_off",
        "The answer was cut off",
        "The connection broke while the answer was arriving. The part received is kept; try again for a full answer.",
        ErrorAction.RETRY,
        Category.ANSWER,
        "The connection broke or the stream ended early after the first words arrived.",
    ),
    Wording(
        "ended_early",
        "Azure ended the answer before it began",
        "Azure closed the answer before any words arrived. Try again.",
        ErrorAction.RETRY,
        Category.ANSWER,
        "The stream ended without its end marker before any words arrived.",
    ),
    Wording(
        "unreadable",
        "Azure sent an answer the app could not read",
        "Nothing readable arrived. Try again; if it keeps happening, contact your administrator with the details.",
        ErrorAction.RETRY,
        Category.ANSWER,
        "Malformed JSON (or an unreadable encoding) before the first words: as a stream event or as a reply.",
    ),
    Wording(
        "unreadable_rest",
        "The rest of the answer could not be read",
        "Part of the answer arrived, then Azure sent something the app could not read. The part received is kept; "
        "try again for a full answer.",
        ErrorAction.RETRY,
        Category.ANSWER,
        "Malformed JSON in the stream after the first words.",
    ),
    Wording(
        "too_large",
        "The answer was too large to read",
        "The service (or a gateway in between) sent more than 16 MB in one piece, so the app stopped reading. {kept}",
        ErrorAction.RETRY,
        Category.ANSWER,
        "One stream event larger than 16 MB.",
    ),
    Wording(
        "stopped_by_azure",
        "Azure stopped the answer",
        "Azure reported a problem while answering: {message} {kept}",
        ErrorAction.RETRY,
        Category.ANSWER,
        "An error event in the stream.",
    ),
    Wording(
        "response_failed",
        "Azure could not finish the answer",
        "Azure reported: {message}. {kept}",
        ErrorAction.RETRY,
        Category.ANSWER,
        "A Responses API stream ended with response.failed.",
    ),
    Wording(
        "long_thinking",
        "This model answers in one piece, after thinking",
        "“{model}” may think for several minutes before it answers, and Azure does not stream its answer: it "
        "arrives all at once (Azure serves such models for long tasks only in background mode). The app waits up to "
        "{minutes} minutes for it; Stop works at any moment.",
        ErrorAction.NONE,
        Category.ANSWER,
        "You send to a deployment whose model (gpt-5-pro, o3-pro) thinks for minutes and does not stream.",
    ),
    Wording(
        "answer_length",
        "The answer reached its length limit",
        "Choose Continue to get the rest.",
        ErrorAction.NONE,
        Category.ANSWER,
        "The answer ended with finish reason length (or incomplete for max_output_tokens).",
    ),
    Wording(
        "answer_too_long",
        "The answer was too long",
        "It was stopped at {limit} characters; everything up to there is kept.",
        ErrorAction.NONE,
        Category.ANSWER,
        "The answer reached the longest the app keeps (2,000,000 characters).",
    ),
    # ---- content filter recovery ---------------------------------------------------------------------------------
    Wording(
        "left_out_question",
        "Left out",
        "This message is not sent with your next messages.",
        ErrorAction.NONE,
        Category.CONTENT_FILTER,
        "The user chose “Continue without this message” on the answer to this message.",
    ),
    Wording(
        "left_out_answer",
        "Left out of the conversation",
        "This turn was blocked by the content filter and is not sent with your next messages. Put it back to send "
        "it again.",
        ErrorAction.NONE,
        Category.CONTENT_FILTER,
        "The user chose “Continue without this message” on this answer.",
    ),
    # ---- before anything is sent ---------------------------------------------------------------------------------
    Wording(
        "nothing_to_answer",
        "Nothing to answer",
        "Send a message first.",
        ErrorAction.NONE,
        Category.SETUP,
        "Answer again in a conversation without a message of yours.",
    ),
    Wording(
        "nothing_to_send",
        "Nothing to send",
        "Type a message first.",
        ErrorAction.NONE,
        Category.SETUP,
        "Send with an empty message and no image.",
    ),
    Wording(
        "message_gone",
        "This message no longer exists",
        "",
        ErrorAction.NONE,
        Category.SETUP,
        "Edit a message that was deleted meanwhile.",
    ),
    # ---- attaching a file (said under the message box; nothing is sent) ------------------------------------------
    Wording(
        "attach_too_large",
        "This file is too large",
        "“{name}” is {size}; one file can be up to {limit}. Attach a smaller file, or copy the part you need into "
        "the message.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a document larger than 20 MB (checked before it is read).",
    ),
    Wording(
        "attach_message_too_large",
        "These files are too large together",
        "The files of one message can be {limit} together; “{name}” does not fit. Send it with your next message.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a document that takes the message's documents over 32 MB together.",
    ),
    Wording(
        "attach_too_many_files",
        "Too many files",
        "One message can carry {limit} files; “{name}” does not fit. Send it with your next message.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach an eleventh file to one message.",
    ),
    Wording(
        "attach_too_many_pages",
        "This document has too many pages",
        "“{name}” has {pages} pages; one document can have up to {limit}. Attach only the pages you need.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a PDF with more than 100 pages, or a presentation with more than 100 slides.",
    ),
    Wording(
        "attach_message_too_many_pages",
        "Too many pages in one message",
        "The documents of one message can have {limit} pages together; “{name}” does not fit. Send it with your "
        "next message.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a document that takes the message's documents over 100 pages (or slides) together.",
    ),
    Wording(
        "attach_too_much_text",
        "Too much text to send",
        "“{name}” holds more text than one message can send (about {limit} characters, some 150 pages). Attach "
        "only the part you need.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a document whose text, alone or with the message's other documents, is over 400,000 characters.",
    ),
    Wording(
        "attach_no_text",
        "No text in this PDF",
        "“{name}” has no text the app can read: it is probably a scan. Choose a deployment that reads PDF files "
        "(such as gpt-4.1 or gpt-4o), or attach the pages as images.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a PDF without a text layer (a scan) while the deployment cannot read PDF files itself.",
    ),
    Wording(
        "attach_password",
        "This document is locked",
        "“{name}” is protected by a password. Save a copy without the password and attach that.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a password-protected PDF.",
    ),
    Wording(
        "attach_damaged",
        "This file could not be read",
        "“{name}” seems damaged, or is not what its name says. Open it, save it again, and attach the copy.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a PDF or Office file that its library cannot read (damaged, or a different format).",
    ),
    Wording(
        "attach_unsupported",
        "This kind of file cannot be attached",
        "The app cannot read “{name}”. Attach PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), text, "
        "Markdown, CSV, JSON or code files, or PNG, JPEG, GIF or WebP images.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a file of another kind (e.g. .doc, .zip, an executable).",
    ),
    Wording(
        "attach_cannot_open",
        "The file could not be opened",
        "“{name}” could not be opened ({reason}). Check that it still exists and that you may read it.",
        ErrorAction.NONE,
        Category.LOCAL,
        "Attach a file that is gone or that this account may not read.",
    ),
)

WORDS: Mapping[str, Wording] = {row.key: row for row in _ROWS}
"""Every failure wording by key."""

KEPT = "The part received is kept."
_FORMATTER = Formatter()


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def wording(key: str) -> Wording:
    """The row of a key (KeyError for an unknown one: a programming error)."""
    return WORDS[key]


def say(key: str, **values: object) -> tuple[str, str]:
    """The translated title and text of a row, its placeholders filled (missing ones are left empty)."""
    row = WORDS[key]
    fill = _Blank(values)
    title = _FORMATTER.vformat(tr(row.title), (), fill).strip()
    text = " ".join(_FORMATTER.vformat(tr(row.text), (), fill).split())
    return title, text


def duration_words(seconds: float) -> str:
    """A wait in plain words: '45 seconds', '5 minutes', '2 hours', '1 day'."""
    whole = max(1, round(seconds))
    if whole < 120:
        count, one, many = whole, "second", "seconds"
    elif whole < 3600:
        count, one, many = round(whole / 60), "minute", "minutes"
    elif whole < 86_400:
        count, one, many = round(whole / 3600), "hour", "hours"
    else:
        count, one, many = round(whole / 86_400), "day", "days"
    return f"{count} {tr(one) if count == 1 else tr(many)}"


_BUTTONS = {
    ErrorAction.OPEN_SETTINGS: "Open settings",
    ErrorAction.SIGN_IN: "Sign in",
    ErrorAction.WAIT_AND_RETRY: "a countdown, Retry now and Stop",
    ErrorAction.RETRY: "Try again",
    ErrorAction.SHORTEN: "Start a new chat",
    ErrorAction.SHORTEN_ANSWER_LIMIT: "Shorten the answer limit",
    ErrorAction.REPHRASE: "Edit your message",
    ErrorAction.LEAVE_OUT: "Continue without this message",
    ErrorAction.CONTACT_ADMIN: "Copy details for your admin",
    ErrorAction.COPY_DETAILS: "Copy details for your admin",
    ErrorAction.NONE: "none",
}
README_START = "<!-- words:start (generated from desktop/services/_words.py: python -m desktop.services._words) -->"
README_END = "<!-- words:end -->"


def readme_section() -> str:
    """The README's table of failures: when each shows, its title and the button offered."""
    lines = [README_START, "| When | The app says | Button |", "|---|---|---|"]
    for row in _ROWS:
        title = row.title if "{" not in row.title else "(the sign-in problem's own title)"
        lines.append(f"| {row.trigger} | **{title}** | {_BUTTONS[row.action]} |")
    lines.append(README_END)
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_section())
