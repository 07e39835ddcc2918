"""Applications and their documents (berkas): create, upload, list, download, and the
officer's "berkas tidak lengkap" step (API.md, "Applications and documents").

Nothing is half-written. A create or an upload is one multipart request; its files are
copied to the file store's staging area as they are read (files.py), then checked
against the permit type's requirements, then written — rows and files — inside one
database transaction under the Idempotency-Key (service_common.idempotency). Any
failure on the way rolls the transaction back and removes the request's files, so a
failed submission leaves no application and no file behind; a retry with the same key
and the same body then creates it once, and a repeat answers the same record.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from demo.licensing.api import finished_values
from demo.licensing.files import Batch, FileStore, StagedFile, remove
from demo.licensing.tables import LicensingTables
from demo.licensing.workflow import INITIAL_STATUS, TRANSITIONS
from demo.service_common.bodies import StatusBody, StrictBody, describe, one_of, parse_body
from demo.service_common.collection import Collection, change_status, get_one
from demo.service_common.errors import FAILURE, ApiError, JSONResponse, bad_request, not_found
from demo.service_common.faults import Faults
from demo.service_common.feed import append_change
from demo.service_common.idempotency import fingerprint, idempotency_key, idempotent_write
from demo.service_common.timeutil import format_time, now

MAX_FILES = 20  # documents in one request
MAX_UPLOAD_BYTES = 120 * 1024 * 1024  # one request's whole body
MAX_DATA_BYTES = 64 * 1024  # the `data` part
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

DOCUMENTS_INVALID = "BERKAS_TIDAK_VALID"
DOCUMENTS_LOCKED = "BERKAS_TIDAK_DAPAT_DIUBAH"
EDITABLE = frozenset({"DIAJUKAN", "BERKAS_TIDAK_LENGKAP"})

Nik = Annotated[str, StringConstraints(pattern=r"^[0-9]{16}$")]


class PermohonanBaru(StrictBody):
    jenis_pemohon: one_of(("PERORANGAN", "BADAN_USAHA")) = "PERORANGAN"  # type: ignore[valid-type]
    nik_pemohon: Nik
    nama_pemohon: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    nama_perusahaan: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    kode_jenis_izin: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    jenis_permohonan: one_of(("BARU", "PERUBAHAN", "PERPANJANGAN")) = "BARU"  # type: ignore[valid-type]
    kode_kelurahan: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
    alamat_usaha: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None


class StatusPermohonan(StatusBody):
    # with BERKAS_TIDAK_LENGKAP: the codes of the requirements found missing or wrong
    kekurangan: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=40)]],
                          Field(min_length=1, max_length=50)] | None = None


def _problem(code: str, reason: str, pesan: str) -> dict[str, str]:
    return {"persyaratan": code, "alasan": reason, "pesan": pesan}


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class IntakeApi:
    def __init__(self, tables: LicensingTables, coll: Collection, files: FileStore, faults: Faults) -> None:
        self.t = tables
        self.coll = coll
        self.files = files
        self.faults = faults

    # -- requirements ------------------------------------------------------------------

    async def _requirements(self, conn: AsyncConnection, permit: str) -> list[dict[str, Any]]:
        r = self.t.persyaratan_izin
        rows = (await conn.execute(select(r).where(r.c.kode_jenis_izin == permit).order_by(r.c.id))).mappings()
        return [
            {"kode": row["kode"], "nama": row["nama"], "wajib": row["wajib"],
             "tipe": row["tipe"].split(","), "ukuran_maks": row["ukuran_maks"]}
            for row in rows
        ]

    async def jenis_izin(self, request: Request) -> Response:
        """`GET /api/v1/jenis-izin`: each permit type with its requirements."""
        j, r = self.t.jenis_izin, self.t.persyaratan_izin
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            types = (await conn.execute(select(j.c.kode, j.c.nama, j.c.sla_hari).order_by(j.c.kode))).all()
            reqs = (await conn.execute(select(r).order_by(r.c.kode_jenis_izin, r.c.id))).mappings().all()
        by_type: dict[str, list[dict[str, Any]]] = {}
        for row in reqs:
            by_type.setdefault(row["kode_jenis_izin"], []).append(
                {"kode": row["kode"], "nama": row["nama"], "wajib": row["wajib"],
                 "tipe": row["tipe"].split(","), "ukuran_maks": row["ukuran_maks"]}
            )
        return JSONResponse(
            {"data": [{"kode": k, "nama": n, "sla_hari": s, "persyaratan": by_type.get(k, [])} for k, n, s in types]}
        )

    # -- reading a multipart request ---------------------------------------------------

    async def _form(self, request: Request) -> FormData:
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            raise bad_request("kirim berkas sebagai multipart/form-data")
        return await request.form(max_files=MAX_FILES, max_fields=4, max_part_size=MAX_DATA_BYTES)

    async def _stage(self, form: FormData, batch: Batch, limits: dict[str, int]) -> list[StagedFile]:
        """Copy every file part to staging (a part named after no requirement still
        counts as a problem, found by `_check`)."""
        staged = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                limit = limits.get(name, 0)
                staged.append(
                    await asyncio.to_thread(
                        batch.stage, value.file, field_name=name, filename=(value.filename or name)[:200], limit=limit
                    )
                )
        return staged

    @staticmethod
    def _check(
        requirements: Sequence[dict[str, Any]], staged: Sequence[StagedFile], *, need_mandatory: bool
    ) -> None:
        by_code = {req["kode"]: req for req in requirements}
        problems: list[dict[str, str]] = []
        seen: set[str] = set()
        for item in staged:
            req = by_code.get(item.field)
            if req is None:
                problems.append(_problem(item.field, "TIDAK_DIKENAL", "bukan persyaratan jenis izin ini"))
                continue
            if item.field in seen:
                problems.append(_problem(item.field, "GANDA", "satu berkas saja untuk tiap persyaratan"))
            seen.add(item.field)
            if item.size == 0:
                problems.append(_problem(item.field, "KOSONG", "berkas kosong (0 byte)"))
            elif item.size > req["ukuran_maks"]:
                problems.append(_problem(item.field, "TERLALU_BESAR", f"lebih dari {_mb(req['ukuran_maks'])}"))
            elif not set(item.types) & set(req["tipe"]):
                found = item.types[0] if item.types else "tidak dikenali"
                problems.append(
                    _problem(item.field, "TIPE_TIDAK_DITERIMA", f"isi berkas {found}; diterima: {', '.join(req['tipe'])}")
                )
        if need_mandatory:
            for req in requirements:
                if req["wajib"] and req["kode"] not in seen:
                    problems.append(_problem(req["kode"], "TIDAK_ADA", f"{req['nama']} wajib dilampirkan"))
        if problems:
            raise ApiError(400, DOCUMENTS_INVALID, "berkas tidak memenuhi persyaratan", rincian=problems)

    def _media_type(self, item: StagedFile, req: dict[str, Any]) -> str:
        return next(t for t in item.types if t in req["tipe"])

    async def _store(
        self, conn: AsyncConnection, batch: Batch, number: str, staged: Sequence[StagedFile],
        requirements: Sequence[dict[str, Any]], moment: Any,
    ) -> list[Path]:
        """Rows and files of `staged`, replacing earlier documents of the same
        requirements; returns the replaced files (removed once the transaction commits).
        The injected upload fault fires here, between two documents."""
        b = self.t.berkas
        by_code = {req["kode"]: req for req in requirements}
        replaced = [
            self.files.path_of(file_id)
            for (file_id,) in await conn.execute(
                select(b.c.id).where(b.c.no_permohonan == number, b.c.kode_persyaratan.in_([s.field for s in staged]))
            )
        ]
        if replaced:
            await conn.execute(
                b.delete().where(b.c.no_permohonan == number, b.c.kode_persyaratan.in_([s.field for s in staged]))
            )
        for done, item in enumerate(staged):
            if self.faults.upload_fail_after is not None and done >= self.faults.upload_fail_after:
                raise ApiError(503, FAILURE, "gangguan (disuntikkan) saat menyimpan berkas")
            await conn.execute(
                b.insert().values(
                    id=item.id, no_permohonan=number, kode_persyaratan=item.field, nama_file=item.filename,
                    tipe=self._media_type(item, by_code[item.field]), ukuran=item.size, sha256=item.sha256,
                    diunggah=moment,
                )
            )
            batch.commit(item)
        p = self.t.persyaratan
        supplied = [s.field for s in staged]
        if supplied:
            await conn.execute(
                p.update().where(p.c.no_permohonan == number, p.c.kode.in_(supplied)).values(terpenuhi=True, diminta=False)
            )
        return replaced

    def _sidik(self, request: Request, data: dict[str, Any], staged: Sequence[StagedFile]) -> str:
        files = sorted([s.field, s.filename, s.size, s.sha256] for s in staged)
        return fingerprint(request, {"data": data, "berkas": files})

    async def _new_number(self, conn: AsyncConnection, year: int) -> str:
        p = self.t.permohonan
        prefix = f"503/DPMPTSP/{year}/"
        count = (await conn.execute(select(func.count()).where(p.c.no_permohonan.startswith(prefix)))).scalar_one()
        for attempt in range(20):
            suffix = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
            number = f"{prefix}{count + 1 + attempt:06d}-{suffix}"
            taken = await conn.execute(select(p.c.no_permohonan).where(p.c.no_permohonan == number))
            if taken.first() is None:
                return number
        raise RuntimeError("no free application number")  # pragma: no cover

    # -- endpoints ---------------------------------------------------------------------

    async def buat(self, request: Request) -> Response:
        """`POST /api/v1/permohonan`: a new application with its documents, all or nothing."""
        key = idempotency_key(request)
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await parse_body(request, PermohonanBaru)
            form: FormData | None = None
        else:
            form = await self._form(request)
        batch = self.files.batch()
        try:
            if form is not None:
                body = self._data(form)
            engine: AsyncEngine = request.state.engine
            async with engine.connect() as conn:
                requirements = await self._requirements(conn, body.kode_jenis_izin)
                known = await self._permit_known(conn, body.kode_jenis_izin)
            if not known:
                raise bad_request(f"jenis izin tidak dikenal: {body.kode_jenis_izin}")
            limits = {req["kode"]: req["ukuran_maks"] for req in requirements}
            staged = await self._stage(form, batch, limits) if form is not None else []
            data = body.model_dump(mode="json")

            async def action(conn: AsyncConnection) -> tuple[int, Any]:
                self._check(requirements, staged, need_mandatory=True)
                moment = now()
                number = await self._new_number(conn, moment.year)
                await conn.execute(
                    self.t.permohonan.insert().values(
                        no_permohonan=number, tgl_pengajuan=moment, status=INITIAL_STATUS, **data
                    )
                )
                supplied = {s.field for s in staged}
                for req in requirements:
                    await conn.execute(
                        self.t.persyaratan.insert().values(
                            no_permohonan=number, kode=req["kode"], nama=req["nama"],
                            terpenuhi=req["kode"] in supplied, diminta=False,
                        )
                    )
                await conn.execute(
                    self.t.riwayat.insert().values(
                        no_permohonan=number, status=INITIAL_STATUS, waktu=moment, catatan="diajukan daring",
                        petugas="pemohon",
                    )
                )
                await self._store(conn, batch, number, staged, requirements, moment)
                await append_change(conn, self.t.perubahan, number, moment)
                record = await get_one(conn, self.coll, number)
                assert record is not None
                return 201, record

            status_code, payload = await idempotent_write(
                engine, request.state.write_lock, self.t.idempotensi, key=key,
                sidik=self._sidik(request, data, staged), action=action,
            )
        except BaseException:
            batch.discard()
            raise
        finally:
            if form is not None:
                await form.close()
        batch.drop_staging()
        return JSONResponse(payload, status_code=status_code)

    async def unggah(self, request: Request) -> Response:
        """`POST /api/v1/permohonan/{no}/berkas`: add or replace documents; the last
        missing one of an incomplete file sends it back to DIAJUKAN."""
        number = request.path_params["no_permohonan"]
        key = idempotency_key(request)
        form = await self._form(request)
        batch = self.files.batch()
        replaced: list[Path] = []
        try:
            if any(not isinstance(v, UploadFile) for _, v in form.multi_items()):
                raise bad_request("hanya bagian berkas (nama bagian = kode persyaratan)")
            engine: AsyncEngine = request.state.engine
            async with engine.connect() as conn:
                current = await get_one(conn, self.coll, number)
                if current is None:
                    raise not_found(f"permohonan {number} tidak ditemukan")
                requirements = await self._requirements(conn, current["kode_jenis_izin"])
            staged = await self._stage(form, batch, {req["kode"]: req["ukuran_maks"] for req in requirements})
            if not staged:
                raise bad_request("tidak ada berkas yang dikirim")

            async def action(conn: AsyncConnection) -> tuple[int, Any]:
                record = await get_one(conn, self.coll, number)
                assert record is not None
                if record["status"] not in EDITABLE:
                    raise ApiError(409, DOCUMENTS_LOCKED, f"berkas tidak dapat diubah pada status {record['status']}")
                self._check(requirements, staged, need_mandatory=False)
                moment = now()
                replaced.extend(await self._store(conn, batch, number, staged, requirements, moment))
                record = await get_one(conn, self.coll, number)
                assert record is not None
                mandatory = {req["kode"] for req in requirements if req["wajib"]}
                missing = [q for q in record["persyaratan"]
                           if not q["terpenuhi"] and (q["diminta"] or q["kode"] in mandatory)]
                if record["status"] == "BERKAS_TIDAK_LENGKAP" and not missing:
                    record = await change_status(
                        conn, self.coll, TRANSITIONS, key=number, status="DIAJUKAN",
                        history={"catatan": "berkas dilengkapi pemohon", "petugas": "pemohon"},
                    )
                else:
                    await append_change(conn, self.t.perubahan, number, moment)
                return 200, record

            status_code, payload = await idempotent_write(
                engine, request.state.write_lock, self.t.idempotensi, key=key,
                sidik=self._sidik(request, {}, staged), action=action,
            )
        except BaseException:
            batch.discard()
            raise
        finally:
            await form.close()
        batch.drop_staging()
        remove(replaced)
        return JSONResponse(payload, status_code=status_code)

    async def daftar_berkas(self, request: Request) -> Response:
        """`GET /api/v1/permohonan/{no}/berkas`: the documents (no content)."""
        number = request.path_params["no_permohonan"]
        b, p = self.t.berkas, self.t.permohonan
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            exists = (await conn.execute(select(p.c.no_permohonan).where(p.c.no_permohonan == number))).first()
            if exists is None:
                raise not_found(f"permohonan {number} tidak ditemukan")
            rows = (
                await conn.execute(select(b).where(b.c.no_permohonan == number).order_by(b.c.kode_persyaratan))
            ).mappings().all()
        return JSONResponse({"data": [self._document(row) for row in rows]})

    async def unduh(self, request: Request) -> Response:
        """`GET /api/v1/permohonan/{no}/berkas/{id}`: the content, streamed from disk."""
        number, file_id = request.path_params["no_permohonan"], request.path_params["id"]
        b = self.t.berkas
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            row = (
                await conn.execute(select(b).where(b.c.id == file_id, b.c.no_permohonan == number))
            ).mappings().first()
        path = self.files.path_of(file_id) if row is not None else None
        if row is None or path is None or not path.is_file():
            raise not_found(f"berkas {file_id} tidak ditemukan pada permohonan {number}")
        return FileResponse(
            path, media_type=row["tipe"], filename=row["nama_file"],
            headers={"X-Berkas-Sha256": row["sha256"], "Cache-Control": "no-store"},
        )

    async def ubah_status(self, request: Request) -> Response:
        """`POST /api/v1/permohonan/{no}/status`, with `kekurangan` for BERKAS_TIDAK_LENGKAP."""
        number = request.path_params["no_permohonan"]
        body = await parse_body(request, StatusPermohonan)
        if body.kekurangan is not None and body.status != "BERKAS_TIDAK_LENGKAP":
            raise bad_request("kekurangan hanya untuk status BERKAS_TIDAK_LENGKAP")

        async def action(conn: AsyncConnection) -> tuple[int, Any]:
            current = await get_one(conn, self.coll, number)
            if current is None:
                raise not_found(f"{number} tidak ditemukan")
            if body.kekurangan:
                await self._mark_missing(conn, number, current["kode_jenis_izin"], body.kekurangan)
            record = await change_status(
                conn, self.coll, TRANSITIONS, key=number, status=body.status,
                history={"catatan": body.catatan, "petugas": body.petugas},
                on_final=finished_values,
            )
            if body.status == "ENTRY_DATA" and record["tgl_berkas_lengkap"] is None:  # the file is complete
                p = self.t.permohonan
                await conn.execute(p.update().where(p.c.no_permohonan == number).values(tgl_berkas_lengkap=now()))
                record = await get_one(conn, self.coll, number)
            return 200, record

        status_code, payload = await idempotent_write(
            request.state.engine, request.state.write_lock, self.t.idempotensi, key=idempotency_key(request),
            sidik=fingerprint(request, body.model_dump(mode="json")), action=action,
        )
        return JSONResponse(payload, status_code=status_code)

    # -- helpers -----------------------------------------------------------------------

    async def _mark_missing(self, conn: AsyncConnection, number: str, permit: str, codes: list[str]) -> None:
        requirements = {req["kode"]: req for req in await self._requirements(conn, permit)}
        unknown = [code for code in codes if code not in requirements]
        if unknown:
            raise bad_request(f"bukan persyaratan {permit}: {', '.join(unknown)}")
        p = self.t.persyaratan
        have = {code for (code,) in await conn.execute(select(p.c.kode).where(p.c.no_permohonan == number))}
        for code in dict.fromkeys(codes):
            if code in have:
                await conn.execute(
                    p.update().where(p.c.no_permohonan == number, p.c.kode == code).values(terpenuhi=False, diminta=True)
                )
            else:
                await conn.execute(
                    p.insert().values(
                        no_permohonan=number, kode=code, nama=requirements[code]["nama"], terpenuhi=False, diminta=True
                    )
                )

    async def _permit_known(self, conn: AsyncConnection, permit: str) -> bool:
        j = self.t.jenis_izin
        return (await conn.execute(select(j.c.kode).where(j.c.kode == permit))).first() is not None

    @staticmethod
    def _data(form: FormData) -> PermohonanBaru:
        raw = form.get("data")
        if not isinstance(raw, str):
            raise bad_request("bagian `data` (JSON permohonan) tidak ada")
        try:
            return PermohonanBaru.model_validate_json(raw)
        except ValidationError as exc:
            raise bad_request(describe(exc)) from exc

    @staticmethod
    def _document(row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "kode_persyaratan": row["kode_persyaratan"],
            "nama_file": row["nama_file"],
            "tipe": row["tipe"],
            "ukuran": row["ukuran"],
            "sha256": row["sha256"],
            "diunggah": format_time(row["diunggah"]),
        }


__all__ = ["DOCUMENTS_INVALID", "DOCUMENTS_LOCKED", "MAX_UPLOAD_BYTES", "IntakeApi"]
