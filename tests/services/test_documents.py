"""Attached documents: converted on this computer, refused beyond the limits in the words table's sentences, and
sent to the simulator as Azure takes them (a PDF as `input_file` on Responses, as text on Chat Completions)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from desktop.client import AzureOpenAIClient
from desktop.services import ChatService, Finished, TurnTarget
from desktop.services._documents import (
    MAX_DOCUMENT_BYTES,
    MAX_FILES,
    MAX_PAGES,
    PDF,
    AttachRefusedError,
    Document,
    check_message,
    file_note,
    model_reads_files,
    read_document,
    read_file,
    size_words,
)
from desktop.services._words import say
from desktop.simulator import Simulator
from desktop.storage import Attachment, HistoryStore, Outcome
from tests.documents import make_docx, make_pdf, make_pptx, make_xlsx
from tests.services.conftest import collect, target_for


def _service(store: HistoryStore, target: TurnTarget) -> ChatService:
    async def resolve(conversation_id: int) -> TurnTarget:
        return target

    return ChatService(store, resolve)


def _refusal(key: str, **values: object) -> str:
    return say(key, **values)[1]


# ---- conversion ----------------------------------------------------------------------------------------------------


def test_pdf_text_is_read_page_by_page() -> None:
    doc = read_document("report.pdf", make_pdf(["Turnover rose by 4 percent.", "Costs fell."]))
    assert (doc.mime, doc.pages) == (PDF, 2)
    assert "[Page 1]\nTurnover rose by 4 percent." in doc.text
    assert "[Page 2]\nCosts fell." in doc.text


def test_docx_keeps_headings_paragraphs_and_tables() -> None:
    data = make_docx("Plan", ["First we build.", "Then we ship."], [["Week", "Task"], ["1", "Build"]])
    doc = read_document("plan.docx", data)
    assert doc.mime.endswith("wordprocessingml.document")
    assert doc.text.splitlines()[:3] == ["# Plan", "First we build.", "Then we ship."]
    assert "Week,Task\n1,Build" in doc.text


def test_xlsx_becomes_csv_per_sheet() -> None:
    data = make_xlsx({"Sales": [["Region", "Total"], ["North", 120], ["South", 80.5]], "Empty": []})
    doc = read_document("sales.xlsx", data)
    assert "## Sheet: Sales\nRegion,Total\nNorth,120\nSouth,80.5" in doc.text
    assert "## Sheet: Empty" in doc.text


def test_pptx_gives_each_slide_with_its_notes_and_counts_slides_as_pages() -> None:
    data = make_pptx([("Welcome", "Agenda for today"), ("Results", "We grew")], notes="Say hello")
    doc = read_document("deck.pptx", data)
    assert doc.pages == 2
    assert "## Slide 1\nWelcome\nAgenda for today\nNotes: Say hello" in doc.text
    assert "## Slide 2\nResults\nWe grew" in doc.text


@pytest.mark.parametrize(
    ("name", "data", "mime", "text"),
    [
        ("data.csv", b"a,b\n1,2\n", "text/csv", "a,b\n1,2\n"),
        ("notes.md", "# Titel\n\nÜber".encode(), "text/markdown", "# Titel\n\nÜber"),
        ("config.json", b'{"a": 1}', "application/json", '{"a": 1}'),
        ("script.py", b"\xef\xbb\xbfprint('hi')\n", "text/x-python", "print('hi')\n"),
        ("legacy.txt", "café".encode("cp1252"), "text/plain", "café"),
        ("README", b"plain words", "text/plain", "plain words"),
    ],
)
def test_text_and_source_files_are_taken_as_they_are(name: str, data: bytes, mime: str, text: str) -> None:
    doc = read_document(name, data)
    assert doc.text == text
    assert doc.mime == mime or (mime == "text/x-python" and doc.mime.startswith("text/"))


def test_a_pdf_without_text_is_kept_empty_and_refused_only_where_it_would_go_as_text() -> None:
    scan = read_document("scan.pdf", make_pdf(["", ""]))
    assert scan.text == ""
    check_message([], scan, deployment_reads_files=True)  # the model reads its page images
    with pytest.raises(AttachRefusedError) as refused:
        check_message([], scan, deployment_reads_files=False)
    assert refused.value.text == (
        "“scan.pdf” has no text the app can read: it is probably a scan. Choose a deployment that reads PDF files "
        "(such as gpt-4.1 or gpt-4o), or attach the pages as images."
    )


# ---- refusals ------------------------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.pdf"
    with big.open("wb") as fh:
        fh.truncate(MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(AttachRefusedError) as refused:
        read_file(big)
    assert refused.value.text == (
        "“huge.pdf” is 20.1 MB; one file can be up to 20 MB. Attach a smaller file, or copy the part you need "
        "into the message."
    )
    assert refused.value.title == "This file is too large"


def test_too_many_pages_in_one_pdf_and_in_one_message() -> None:
    with pytest.raises(AttachRefusedError) as refused:
        read_document("long.pdf", make_pdf(["x"] * (MAX_PAGES + 1)))
    assert (
        refused.value.text
        == "“long.pdf” has 101 pages; one document can have up to 100. Attach only the pages you need."
    )
    sixty = read_document("sixty.pdf", make_pdf(["y"] * 60))
    with pytest.raises(AttachRefusedError) as refused:
        check_message([sixty], read_document("more.pdf", make_pdf(["z"] * 41)), deployment_reads_files=True)
    assert refused.value.text == (
        "The documents of one message can have 100 pages together; “more.pdf” does not fit. Send it with your next "
        "message."
    )


def test_too_many_files_and_too_much_text() -> None:
    small = Document("a.txt", "text/plain", b"a", "a")
    with pytest.raises(AttachRefusedError) as refused:
        check_message([small] * MAX_FILES, small, deployment_reads_files=True)
    assert refused.value.text == "One message can carry 10 files; “a.txt” does not fit. Send it with your next message."
    with pytest.raises(AttachRefusedError) as refused:
        read_document("log.txt", b"x" * 400_001)
    assert refused.value.text == _refusal("attach_too_much_text", name="log.txt", limit="400,000")
    assert "about 400,000 characters" in refused.value.text


def test_the_documents_of_one_message_share_32_mb() -> None:
    big = Document("a.pdf", PDF, b"%PDF" + b"\0" * (20 * 1024 * 1024 - 4), "text")
    more = Document("b.pdf", PDF, b"%PDF" + b"\0" * (13 * 1024 * 1024), "text")
    with pytest.raises(AttachRefusedError) as refused:
        check_message([big], more, deployment_reads_files=True)
    assert refused.value.text == (
        "The files of one message can be 32 MB together; “b.pdf” does not fit. Send it with your next message."
    )
    image = Attachment("image/png", b"\0" * (19 * 1024 * 1024), "photo.png")
    check_message([image], more, deployment_reads_files=True)  # images have their own limit (50 MB together)


def test_damaged_locked_and_unknown_files_get_their_sentences(tmp_path: Path) -> None:
    with pytest.raises(AttachRefusedError) as refused:
        read_document("broken.docx", b"PK\x03\x04 not really a zip")
    assert (
        refused.value.text
        == "“broken.docx” seems damaged, or is not what its name says. Open it, save it again, and attach the copy."
    )
    with pytest.raises(AttachRefusedError) as refused:
        read_document("broken.pdf", b"%PDF-1.4\nnothing else")
    assert refused.value.key == "attach_damaged"
    with pytest.raises(AttachRefusedError) as refused:
        read_document("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00")
    assert refused.value.key == "attach_unsupported"
    assert refused.value.text.startswith("The app cannot read “tool.exe”.")
    with pytest.raises(AttachRefusedError) as refused:
        read_file(tmp_path / "gone.pdf")
    assert refused.value.text == (
        "“gone.pdf” could not be opened (No such file or directory). Check that it still exists and that you may "
        "read it."
    )


def test_a_password_protected_pdf_is_refused() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(__import__("io").BytesIO(make_pdf(["secret"]))))
    writer.encrypt(user_password="pw", owner_password="owner", algorithm="RC4-128")
    out = __import__("io").BytesIO()
    writer.write(out)
    with pytest.raises(AttachRefusedError) as refused:
        read_document("locked.pdf", out.getvalue())
    assert (
        refused.value.text
        == "“locked.pdf” is protected by a password. Save a copy without the password and attach that."
    )


# ---- how it is sent ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reads"),
    [
        *[("gpt-4o", True), ("gpt-4o-mini", True), ("gpt-4.1", True), ("gpt-5-mini", True), ("o3", True)],
        *[("o4-mini", True), ("o1", True), ("o3-mini", False), ("o1-mini", False), ("gpt-35-turbo", False)],
        *[("gpt-4o-audio-preview", False), (None, False), ("my-deployment", False)],
    ],
)
def test_which_models_read_files(model: str | None, reads: bool) -> None:
    assert model_reads_files(model) is reads


def test_chip_notes_and_sizes() -> None:
    pdf = Attachment(PDF, b"%PDF", "a.pdf", "t")
    assert file_note(pdf, True) == "Sent as a PDF file: the model reads its text and pages."
    assert file_note(pdf, False) == "Sent as text read on this computer: this deployment does not read PDF files."
    assert file_note(Attachment("text/csv", b"a", "a.csv", "a"), True) == "Sent as text read on this computer."
    assert file_note(Attachment("image/png", b"x", "a.png"), True) == ""
    assert [size_words(n) for n in (830, 12_345, 3_500_000)] == ["830 bytes", "12 KB", "3.3 MB"]


def test_a_pdf_goes_as_input_file_to_a_responses_deployment(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    data = make_pdf(["Turnover rose by 4 percent."])
    doc = read_document("report.pdf", data)
    conv = store.create_conversation("c")
    chat = _service(store, target_for(client, "gpt-4.1", api="responses", model="gpt-4.1"))
    events = arun(collect(chat.send(conv.id, "Summarise this.", [doc.attachment()])))
    assert isinstance(events[-1], Finished) and events[-1].outcome is Outcome.COMPLETE
    body = sim.requests[-1].json
    assert sim.requests[-1].path.endswith("/responses")
    [user] = body["input"]
    assert user["content"] == [
        {"type": "input_text", "text": "Summarise this."},
        {
            "type": "input_file",
            "filename": "report.pdf",
            "file_data": "data:application/pdf;base64," + base64.b64encode(data).decode("ascii"),
        },
    ]


def test_a_pdf_goes_as_its_text_with_a_note_to_a_chat_deployment(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    doc = read_document("report.pdf", make_pdf(["Turnover rose by 4 percent."]))
    conv = store.create_conversation("c")
    chat = _service(store, target_for(client, "gpt-4o-mini", api="chat", model="gpt-4o-mini"))
    events = arun(collect(chat.send(conv.id, "Summarise this.", [doc.attachment()])))
    assert isinstance(events[-1], Finished) and events[-1].outcome is Outcome.COMPLETE
    body = sim.requests[-1].json
    assert sim.requests[-1].path.endswith("/chat/completions")
    [user] = body["messages"]
    assert user["content"][0] == {"type": "text", "text": "Summarise this."}
    sent = user["content"][1]
    assert sent["type"] == "text"
    assert sent["text"].startswith("Attached file “report.pdf” (its text, read on the user's computer):")
    assert "Turnover rose by 4 percent." in sent["text"]
    assert "input_file" not in str(body) and "base64" not in str(body)


def test_office_files_go_as_text_even_to_a_model_that_reads_pdfs(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sheet = read_document("sales.xlsx", make_xlsx({"Sales": [["North", 120]]}))
    conv = store.create_conversation("c")
    chat = _service(store, target_for(client, "gpt-4.1", api="responses", model="gpt-4.1"))
    arun(collect(chat.send(conv.id, "", [sheet.attachment()])))
    [user] = sim.requests[-1].json["input"]
    assert [p["type"] for p in user["content"]] == ["input_text"]
    assert "North,120" in user["content"][0]["text"]


def test_a_model_that_cannot_read_files_gets_text_on_responses_too(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    doc = read_document("report.pdf", make_pdf(["Costs fell."]))
    conv = store.create_conversation("c")
    chat = _service(store, target_for(client, "gpt-4.1", api="responses", model="gpt-35-turbo"))
    arun(collect(chat.send(conv.id, "What fell?", [doc.attachment()])))
    [user] = sim.requests[-1].json["input"]
    assert [p["type"] for p in user["content"]] == ["input_text", "input_text"]
    assert "Costs fell." in user["content"][1]["text"]


def test_regenerate_and_edit_resend_send_the_attachments_again(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    doc = read_document("report.pdf", make_pdf(["Costs fell."]))
    conv = store.create_conversation("c")
    chat = _service(store, target_for(client, "gpt-4.1", api="responses", model="gpt-4.1"))
    arun(collect(chat.send(conv.id, "What fell?", [doc.attachment()])))
    arun(collect(chat.regenerate(conv.id)))
    assert sim.requests[-1].json["input"][-1]["content"][1]["filename"] == "report.pdf"
    question = store.load_messages(conv.id)[0]
    arun(collect(chat.edit_and_resend(question.id, "What rose?")))
    last = sim.requests[-1].json["input"][-1]["content"]
    assert last[0]["text"] == "What rose?"
    assert last[1]["filename"] == "report.pdf"
    assert store.load_messages(conv.id)[0].attachments == (doc.attachment(),)


def test_the_simulator_refuses_files_where_azure_does(sim: Simulator, client: AzureOpenAIClient, arun: Any) -> None:
    from desktop.client import BadRequestError

    pdf = "data:application/pdf;base64," + base64.b64encode(make_pdf(["x"])).decode("ascii")
    file_part = {"type": "file", "file": {"filename": "a.pdf", "file_data": pdf}}

    async def chat_with_file() -> None:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": [file_part]}], stream=False
        )

    with pytest.raises(BadRequestError) as refused:
        arun(chat_with_file())
    assert refused.value.code == "invalid_value"

    async def responses_with_bad_file() -> None:
        part = {"type": "input_file", "filename": "a.pdf", "file_data": "data:text/plain;base64,eA=="}
        await client.responses.create(model="gpt-4.1", input=[{"role": "user", "content": [part]}], stream=False)

    with pytest.raises(BadRequestError) as refused:
        arun(responses_with_bad_file())
    assert refused.value.code == "invalid_value"
