"""Helpers for the online-application tests: sample documents, GraphQL multipart
requests (the spec's `operations` / `map` / files), and a look at the licensing
service itself (its records and its file store)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 4000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 800
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 800

SUBMIT = """mutation Submit($input: ApplicationInput!, $docs: [DocumentInput!], $key: String!) {
  submitApplication(input: $input, documents: $docs, idempotencyKey: $key) {
    number status applicantNik requirements { code name fulfilled requested }
  }
}"""
COMPLETE = """mutation Complete($number: String!, $docs: [DocumentInput!]!, $key: String!) {
  completeApplication(number: $number, documents: $docs, idempotencyKey: $key) {
    number status requirements { code fulfilled requested }
  }
}"""
#: an IUMK application (Izin Usaha Mikro dan Kecil) needs these four
IUMK_DOCUMENTS = {"KTP_PEMOHON": ("ktp.pdf", PDF), "KARTU_KELUARGA": ("kk.pdf", PDF), "PAS_FOTO_3X4": ("foto.png", PNG),
                  "SURAT_PENGANTAR_KELURAHAN": ("pengantar.pdf", PDF)}


def residents(data_dir: Path, count: int) -> list[tuple[str, str]]:
    """(NIK, kelurahan code) of `count` residents with no application yet."""
    with sqlite3.connect(data_dir / "population.db") as db:
        rows = db.execute(
            "SELECT NIK, NO_PROP || NO_KAB || NO_KEC || NO_KEL FROM BIODATA_WNI ORDER BY NIK"
        ).fetchall()
    with sqlite3.connect(data_dir / "licensing.db") as db:
        applicants = {nik for (nik,) in db.execute("SELECT nik_pemohon FROM permohonan")}
    return [(nik, kel) for nik, kel in rows if nik not in applicants][:count]


def multipart(
    client: TestClient,
    query: str,
    variables: dict[str, Any],
    documents: dict[str, tuple[str, bytes]],
    headers: dict[str, str],
    *,
    variable: str = "docs",
) -> httpx.Response:
    """One operation with `documents` (requirement -> (file name, content)) as
    `$docs: [DocumentInput!]`, sent as the GraphQL multipart request spec says."""
    docs = [{"requirement": code, "file": None} for code in documents]
    operations = {"query": query, "variables": {**variables, variable: docs}}
    files_map = {str(i): [f"variables.{variable}.{i}.file"] for i in range(len(docs))}
    files = [(str(i), (name, content, "application/pdf")) for i, (name, content) in enumerate(documents.values())]
    return client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files=files,
        headers=headers,
    )


def graphql(client: TestClient, query: str, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    return body["errors"][0]


def source_applications(url: str, api_key: str, nik: str) -> list[dict[str, Any]]:
    answer = httpx.post(f"{url}/api/v1/permohonan/cari", json={"nik_pemohon": [nik], "limit": 100},
                        headers={"X-API-Key": api_key})
    answer.raise_for_status()
    return answer.json()["data"]


def stored_files(data_dir: Path) -> set[str]:
    store = data_dir / "licensing-berkas"
    return {p.name for p in store.rglob("*") if p.is_file()} if store.exists() else set()


def set_faults(url: str, api_key: str, **faults: Any) -> None:
    httpx.post(f"{url}/_admin/faults", json=faults, headers={"X-API-Key": api_key}).raise_for_status()
