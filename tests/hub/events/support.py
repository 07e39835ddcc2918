"""Driving the sample sources (changes that make events) and speaking
graphql-transport-ws to the hub, for the event and subscription tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
from starlette.testclient import TestClient

from hub.demo import DemoSources

PROTOCOL = "graphql-transport-ws"
#: application statuses that can go round: PEMERIKSAAN_BERKAS → BERKAS_TIDAK_LENGKAP → DIAJUKAN → ...
CYCLE = {"DIAJUKAN": "PEMERIKSAAN_BERKAS", "PEMERIKSAAN_BERKAS": "BERKAS_TIDAK_LENGKAP",
         "BERKAS_TIDAK_LENGKAP": "DIAJUKAN"}


class SourceDriver:
    def __init__(self, stack: DemoSources) -> None:
        self.licensing = httpx.Client(base_url=stack.url_of("licensing"), headers={"X-API-Key": stack.api_key})
        self.complaints = httpx.Client(base_url=stack.url_of("complaints"), headers={"X-API-Key": stack.api_key})

    def close(self) -> None:
        self.licensing.close()
        self.complaints.close()

    def cyclable_application(self, *, skip: int = 0) -> dict[str, Any]:
        """A personal application whose status can be moved round and round."""
        answer = self.licensing.post("/api/v1/permohonan/cari", json={"status": list(CYCLE), "limit": 200})
        answer.raise_for_status()
        rows = [r for r in answer.json()["data"] if r["jenis_pemohon"] == "PERORANGAN"]
        return rows[skip]

    def application(self, number: str) -> dict[str, Any]:
        answer = self.licensing.get(f"/api/v1/permohonan/{quote(number, safe='')}")
        answer.raise_for_status()
        return answer.json()

    def move_application(self, number: str) -> str:
        """One step round the cycle; returns the new status."""
        status = CYCLE[self.application(number)["status"]]
        answer = self.licensing.post(f"/api/v1/permohonan/{quote(number, safe='')}/status",
                                     json={"status": status, "catatan": "test", "petugas": "tester"})
        answer.raise_for_status()
        return status

    def submit_complaint(self, *, nik: str | None, kelurahan: str, visibility: str = "PUBLIK") -> str:
        answer = self.complaints.post("/api/v1/laporan", json={
            "judul": "Lampu jalan padam", "isi": "Lampu jalan di depan rumah padam sejak kemarin.",
            "klasifikasi": "PENGADUAN", "kategori": "Infrastruktur", "kode_kelurahan": kelurahan,
            "lokasi": "Jl. Uji RT 01 RW 02", "kanal": "WEBSITE", "kerahasiaan": visibility, "nik_pelapor": nik})
        answer.raise_for_status()
        return str(answer.json()["no_tiket"])

    def move_complaint(self, number: str, status: str) -> None:
        answer = self.complaints.post(f"/api/v1/laporan/{quote(number, safe='')}/status",
                                      json={"status": status, "catatan": "test", "petugas": "tester"})
        answer.raise_for_status()


@contextmanager
def driver(stack: DemoSources) -> Iterator[SourceDriver]:
    d = SourceDriver(stack)
    try:
        yield d
    finally:
        d.close()


class Socket:
    """One graphql-transport-ws connection through the TestClient."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        self.ws.send_json({"type": "connection_init", "payload": payload or {}})
        return self.ws.receive_json()

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self.ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    def receive(self) -> dict[str, Any]:
        return self.ws.receive_json()

    def next_data(self, op_id: str) -> dict[str, Any]:
        message = self.receive()
        assert message["id"] == op_id and message["type"] == "next", message
        return message["payload"]


@contextmanager
def socket(client: TestClient, payload: dict[str, Any] | None = None, *, init: bool = True) -> Iterator[Socket]:
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        sock = Socket(ws)
        if init:
            ack = sock.init(payload)
            assert ack == {"type": "connection_ack"}, ack
        yield sock


def bearer(token: dict[str, str]) -> dict[str, str]:
    return {"Authorization": token["Authorization"]}


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def residents(stack: DemoSources) -> list[tuple[str, str]]:
    """(NIK, kelurahan code) of sample residents, one per kelurahan."""
    import sqlite3

    with sqlite3.connect(stack.data_dir / "population.db") as db:
        rows = db.execute('SELECT "NIK", "NO_PROP" || "NO_KAB" || "NO_KEC" || "NO_KEL" FROM "BIODATA_WNI" '
                          'ORDER BY "NIK"').fetchall()
    seen: dict[str, str] = {}
    for nik, kelurahan in rows:
        seen.setdefault(kelurahan, nik)
    return [(nik, kelurahan) for kelurahan, nik in seen.items()]


def collect_until(sock: Socket, op_id: str, field: str, done: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The events of `op_id` up to and including the first for which `done(event)` holds."""
    events = []
    for _ in range(limit):
        payload = sock.next_data(op_id)
        assert "errors" not in payload, payload
        event = payload["data"][field]
        events.append(event)
        if done(event):
            return events
    raise AssertionError(f"no closing event among {events}")

