"""Files in requests, as Azure takes them: PDFs as Responses `input_file` parts, never in Chat Completions."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from . import _azure as azure

_PDF_PREFIX = "data:application/pdf;base64,"


def file_problem(body: dict[str, Any], api: str, reads_files: bool) -> dict[str, Any] | None:
    """The 400 body Azure answers for a file part it will not take, or None when every part is acceptable.

    Responses: `input_file` needs a `filename` and `file_data` holding a base64 PDF data URL, and a model that reads
    files (the vision-capable ones). Chat Completions on Azure takes no file parts at all.
    """
    conversation = body.get("input") if api == "responses" else body.get("messages")
    if not isinstance(conversation, list):
        return None
    for i, message in enumerate(conversation):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            where = f"{'input' if api == 'responses' else 'messages'}[{i}].content[{j}]"
            if kind in ("file", "input_file") and api == "chat":
                return _invalid(
                    f"Invalid value: '{kind}'. Files are not supported in chat completions.", f"{where}.type"
                )
            if kind == "input_file":
                if not reads_files:
                    return _invalid("The model does not support file inputs.", f"{where}.type")
                problem = _pdf_problem(part, where)
                if problem is not None:
                    return problem
    return None


def _pdf_problem(part: dict[str, Any], where: str) -> dict[str, Any] | None:
    filename, data = part.get("filename"), part.get("file_data")
    if not isinstance(filename, str) or not filename:
        return azure.missing_parameter_body(f"{where}.filename")
    if not isinstance(data, str) or not data.startswith(_PDF_PREFIX):
        return _invalid("Invalid file data: expected a base64 data URL of a PDF file.", f"{where}.file_data")
    try:
        raw = base64.b64decode(data[len(_PDF_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return _invalid("Invalid file data: the base64 data could not be decoded.", f"{where}.file_data")
    if not raw.startswith(b"%PDF-"):
        return _invalid("Invalid file data: the file is not a PDF.", f"{where}.file_data")
    return None


def _invalid(message: str, param: str) -> dict[str, Any]:
    return azure.error_body("invalid_value", message, param=param, type_="invalid_request_error")
