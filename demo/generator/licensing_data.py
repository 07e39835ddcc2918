"""Licensing applications (`permohonan`, demo/API.md) and the permit types they are for.

Each application walks the SiCantik-style workflow of DESIGN.md on office hours:
DIAJUKAN -> PEMERIKSAAN_BERKAS -> (BERKAS_TIDAK_LENGKAP -> DIAJUKAN ->
PEMERIKSAAN_BERKAS) -> ENTRY_DATA -> TINJAUAN_LAPANGAN | REKOMENDASI -> PENETAPAN ->
DITOLAK | DRAFT_SK -> PARAF -> TTE -> TERBIT -> DISERAHKAN (-> DICABUT), with
DIBATALKAN when an incomplete file is never completed or the applicant withdraws.
The whole path is simulated and then cut at the generation moment, so old applications
are mostly finished and recent ones are in progress; some run past their service level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Iterator, Sequence

from faker import Faker

from demo.generator.calendar import WIB, WorkCalendar
from demo.generator.codes import Weighted
from demo.generator.errors import GeneratorInputError
from demo.generator.sample import Resident
from demo.generator.timeline import Timeline, iso, random_office_moment, random_suffix
from demo.licensing.requirements import requirements

#: Transitions of the licensing workflow (DESIGN.md), used by tests and the generator.
TRANSITIONS: dict[str, frozenset[str]] = {
    "DIAJUKAN": frozenset({"PEMERIKSAAN_BERKAS", "DIBATALKAN"}),
    "PEMERIKSAAN_BERKAS": frozenset({"BERKAS_TIDAK_LENGKAP", "ENTRY_DATA", "DIBATALKAN"}),
    "BERKAS_TIDAK_LENGKAP": frozenset({"DIAJUKAN", "DIBATALKAN"}),
    "ENTRY_DATA": frozenset({"TINJAUAN_LAPANGAN", "REKOMENDASI", "DIBATALKAN"}),
    "TINJAUAN_LAPANGAN": frozenset({"PENETAPAN", "DIBATALKAN"}),
    "REKOMENDASI": frozenset({"PENETAPAN", "DIBATALKAN"}),
    "PENETAPAN": frozenset({"DITOLAK", "DRAFT_SK"}),
    "DRAFT_SK": frozenset({"PARAF"}),
    "PARAF": frozenset({"TTE"}),
    "TTE": frozenset({"TERBIT"}),
    "TERBIT": frozenset({"DISERAHKAN", "DICABUT"}),
    "DISERAHKAN": frozenset({"DICABUT"}),
    "DITOLAK": frozenset(),
    "DICABUT": frozenset(),
    "DIBATALKAN": frozenset(),
}
#: Statuses that end the service (tgl_selesai is the first of them reached).
FINISHED = frozenset({"DITOLAK", "TERBIT", "DISERAHKAN", "DICABUT", "DIBATALKAN"})


@dataclass(frozen=True, slots=True)
class PermitType:
    kode: str
    nama: str
    sla_hari: int
    weight: float
    company_share: float  # share of applications by a company (BADAN_USAHA)
    field_review: bool  # TINJAUAN_LAPANGAN rather than a REKOMENDASI
    renewable: bool
    requirements: tuple[str, ...]
    business_address: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "kode": self.kode,
            "nama": self.nama,
            "sla_hari": self.sla_hari,
            "persyaratan": requirements(self.requirements),
        }


_KTP = "KTP pemohon"
_NIB = "NIB (Nomor Induk Berusaha)"
PERMIT_TYPES: tuple[PermitType, ...] = (
    PermitType("PBG", "Persetujuan Bangunan Gedung", 20, 14, 0.15, True, False,
               (_KTP, "Bukti kepemilikan tanah", "Gambar rencana teknis", "KRK/KKPR",
                "Bukti bayar PBB tahun berjalan"), business_address=False),
    PermitType("SLF", "Sertifikat Laik Fungsi", 15, 4, 0.3, True, True,
               (_KTP, "Dokumen PBG", "Laporan pemeriksaan kelaikan fungsi",
                "Gambar terbangun (as built drawing)"), business_address=False),
    PermitType("IMB", "Izin Mendirikan Bangunan (balik nama/legalisir, lama)", 10, 2, 0.1,
               False, False, (_KTP, "Salinan IMB lama", "Bukti kepemilikan tanah"),
               business_address=False),
    PermitType("KKPR", "Kesesuaian Kegiatan Pemanfaatan Ruang", 20, 4, 0.35, True, False,
               (_KTP, _NIB, "Peta lokasi/koordinat", "Bukti kepemilikan tanah")),
    PermitType("IUMK", "Izin Usaha Mikro dan Kecil", 3, 16, 0.03, False, True,
               (_KTP, "Kartu Keluarga", "Pas foto 3x4", "Surat pengantar kelurahan")),
    PermitType("SKTU", "Surat Keterangan Tempat Usaha", 3, 12, 0.15, False, True,
               (_KTP, "Surat pengantar RT/RW", "Bukti kepemilikan/sewa tempat usaha",
                "Foto tempat usaha")),
    PermitType("PB-UMKU", "Perizinan Berusaha Untuk Menunjang Kegiatan Usaha", 5, 6, 0.5,
               False, True, (_KTP, _NIB, "Akta pendirian perusahaan", "NPWP")),
    PermitType("SPPL", "Surat Pernyataan Pengelolaan Lingkungan", 5, 5, 0.25, False, False,
               (_KTP, _NIB, "Formulir SPPL bermaterai", "Denah lokasi usaha")),
    PermitType("REKLAME", "Izin Penyelenggaraan Reklame", 7, 6, 0.45, True, True,
               (_KTP, "Desain reklame", "Foto lokasi", "Persetujuan pemilik lahan",
                "Bukti bayar pajak reklame")),
    PermitType("TDUP", "Tanda Daftar Usaha Pariwisata", 5, 4, 0.35, False, True,
               (_KTP, _NIB, "Bukti kepemilikan/sewa tempat usaha", "Foto tempat usaha")),
    PermitType("SIP-DOKTER", "Surat Izin Praktik Dokter", 5, 3, 0.0, False, True,
               (_KTP, "STR dokter", "Rekomendasi IDI", "Surat keterangan tempat praktik",
                "Pas foto 4x6"), business_address=True),
    PermitType("SIPB", "Surat Izin Praktik Bidan", 5, 3, 0.0, False, True,
               (_KTP, "STR bidan", "Rekomendasi IBI", "Surat keterangan tempat praktik")),
    PermitType("SIPP", "Surat Izin Praktik Perawat", 5, 2, 0.0, False, True,
               (_KTP, "STR perawat", "Rekomendasi PPNI", "Surat keterangan tempat praktik")),
    PermitType("SIA", "Surat Izin Apotek", 10, 2, 0.5, True, True,
               (_KTP, "STRA apoteker", "Denah bangunan", "Daftar sarana dan prasarana",
                "Surat pernyataan apoteker")),
    PermitType("IUTM", "Izin Usaha Toko Modern", 15, 1, 0.9, True, True,
               (_KTP, _NIB, "Studi kelayakan usaha", "Rencana kemitraan UMKM",
                "Dokumen KKPR")),
)

_OFFICE = "503/DPMPTSP"
_REQUEST_KIND = Weighted([("BARU", 72), ("PERUBAHAN", 10), ("PERPANJANGAN", 18)])
_REVIEW_BY = {True: "Tim Teknis", False: "Dinas Teknis"}
_REJECTIONS = (
    "Lokasi tidak sesuai dengan rencana tata ruang",
    "Tidak memenuhi persyaratan teknis hasil peninjauan",
    "Dokumen tidak sah/tidak sesuai",
    "Rekomendasi teknis tidak diberikan",
)


def permit_types() -> list[dict[str, Any]]:
    """The permit types as the licensing service lists them (kode, nama, sla_hari)."""
    return [p.as_dict() for p in PERMIT_TYPES]


def generate_applications(
    *,
    applicants: Sequence[Resident],
    count: int,
    seed: int,
    today: date,
    permit_catalogue: Sequence[PermitType] = PERMIT_TYPES,
    years: int = 2,
) -> Iterator[dict[str, Any]]:
    """Yield `count` applications in order of submission over `years` up to `today`."""
    if count < 0:
        raise GeneratorInputError(f"count must not be negative, got {count}")
    if count and not applicants:
        raise GeneratorInputError("applications need at least one resident as applicant")
    rng = random.Random(f"{seed}:licensing")
    fake = Faker("id_ID")
    fake.seed_instance(seed + 1)
    start = date(today.year - years, today.month, min(today.day, 28))
    calendar = WorkCalendar(first_year=start.year, last_year=today.year + 2)
    now = datetime.combine(today, time(23, 59, 59), WIB)
    staff = _Staff(fake)
    types = Weighted([(p, p.weight) for p in permit_catalogue])
    moments = sorted(random_office_moment(rng, calendar, start, today) for _ in range(count))
    serials: dict[int, int] = {}
    for submitted in moments:
        serial = serials.get(submitted.year, 0) + 1
        serials[submitted.year] = serial
        number = f"{_OFFICE}/{submitted.year}/{serial:06d}-{random_suffix(rng, 4)}"
        permit = types.draw(rng)
        yield _application(rng, fake, calendar, staff, now, number, permit,
                           rng.choice(applicants), submitted)


class _Staff:
    def __init__(self, fake: Faker) -> None:
        titles = ("", "", ", S.Sos", ", S.E.", ", S.H.", ", S.T.", ", A.Md.", ", S.Kom.")
        pick = fake.random_element
        self.front = [f"{fake.first_name()} {fake.last_name()}{pick(titles)}" for _ in range(5)]
        self.back = [f"{fake.first_name()} {fake.last_name()}{pick(titles)}" for _ in range(4)]
        self.technical = [f"{fake.first_name()} {fake.last_name()}, S.T." for _ in range(4)]
        self.head = f"{fake.first_name_male()} {fake.last_name_male()}, S.STP., M.Si."
        self.secretary = f"{fake.first_name()} {fake.last_name()}, S.H., M.H."


def _application(rng: random.Random, fake: Faker, calendar: WorkCalendar, staff: _Staff,
                 now: datetime, number: str, permit: PermitType, applicant: Resident,
                 submitted: datetime) -> dict[str, Any]:
    company = rng.random() < permit.company_share
    kind = _REQUEST_KIND.draw(rng) if permit.renewable else (
        "BARU" if rng.random() < 0.88 else "PERUBAHAN")
    front, back = rng.choice(staff.front), rng.choice(staff.back)
    missing: list[str] = []
    if rng.random() < 0.22:
        missing = rng.sample(permit.requirements[1:], k=min(len(permit.requirements) - 1,
                                                           rng.choice((1, 1, 2))))
    t = Timeline(calendar, submitted)
    t.at("DIAJUKAN", submitted, catatan=rng.choice((None, "Pengajuan daring", "Pengajuan di loket")),
         petugas=front)
    t.after("PEMERIKSAAN_BERKAS", rng.uniform(20, 600), catatan=None, petugas=front)
    complete_from: datetime | None = None
    if missing:
        t.after("BERKAS_TIDAK_LENGKAP", rng.uniform(30, 900),
                catatan="Persyaratan belum lengkap: " + ", ".join(missing), petugas=front)
        if rng.random() < 0.12:
            t.after("DIBATALKAN", rng.uniform(10, 30) * 480,
                    catatan="Berkas tidak dilengkapi dalam batas waktu", petugas=front)
            return _record(rng, fake, permit, number, company, kind, applicant, submitted,
                           t.until(now), missing, None, now)
        resubmitted = t.after("DIAJUKAN", rng.uniform(1, 10) * 480,
                              catatan="Berkas dilengkapi pemohon", petugas=front)
        complete_from = resubmitted
        t.after("PEMERIKSAAN_BERKAS", rng.uniform(20, 480), catatan=None, petugas=front)
    complete = t.after("ENTRY_DATA", rng.uniform(30, 900), catatan="Berkas lengkap", petugas=back)
    if rng.random() < 0.02:
        t.after("DIBATALKAN", rng.uniform(1, 8) * 480, catatan="Dibatalkan atas permintaan pemohon",
                petugas=front)
        return _record(rng, fake, permit, number, company, kind, applicant, submitted,
                       t.until(now), missing, (complete_from, complete), now)
    # the service-level phase: from a complete file to issuance or rejection
    r = rng.random()
    factor = rng.uniform(0.25, 0.95) if r < 0.8 else (
        rng.uniform(1.05, 1.6) if r < 0.95 else rng.uniform(1.6, 3.5))
    budget = permit.sla_hari * 480 * factor
    rejected = rng.random() < 0.08
    review = "TINJAUAN_LAPANGAN" if permit.field_review else "REKOMENDASI"
    reviewer = rng.choice(staff.technical)
    if rejected:
        t.after(review, budget * 0.5, catatan=f"Dikerjakan oleh {_REVIEW_BY[permit.field_review]}",
                petugas=reviewer)
        t.after("PENETAPAN", budget * 0.3, catatan="Tidak memenuhi ketentuan", petugas=staff.head)
        t.after("DITOLAK", budget * 0.2, catatan=rng.choice(_REJECTIONS), petugas=staff.head)
    else:
        t.after(review, budget * 0.4, catatan=f"Dikerjakan oleh {_REVIEW_BY[permit.field_review]}",
                petugas=reviewer)
        t.after("PENETAPAN", budget * 0.2, catatan="Memenuhi ketentuan", petugas=staff.head)
        t.after("DRAFT_SK", budget * 0.15, catatan=None, petugas=back)
        t.after("PARAF", budget * 0.1, catatan=None, petugas=staff.secretary)
        t.after("TTE", budget * 0.1, catatan="Ditandatangani secara elektronik", petugas=staff.head)
        t.after("TERBIT", budget * 0.05, catatan="Izin terbit", petugas=back)
        if rng.random() < 0.9:
            t.after("DISERAHKAN", rng.uniform(0.2, 12) * 480, catatan="Diserahkan kepada pemohon",
                    petugas=front)
            if rng.random() < 0.01:
                t.after("DICABUT", rng.uniform(20, 200) * 480,
                        catatan="Dicabut: kegiatan tidak sesuai izin", petugas=staff.head)
    return _record(rng, fake, permit, number, company, kind, applicant, submitted,
                   t.until(now), missing, (complete_from, complete), now)


def _record(rng: random.Random, fake: Faker, permit: PermitType, number: str, company: bool,
            kind: str, applicant: Resident, submitted: datetime, steps: list[dict[str, Any]],
            missing: list[str], completion: tuple[datetime | None, datetime] | None,
            now: datetime) -> dict[str, Any]:
    complete_at = completion[1] if completion and completion[1] <= now else None
    # requirements still missing while the file is incomplete (or was never completed)
    still_missing = set(missing) if complete_at is None and (
        completion is None or completion[0] is None or completion[0] > now) else set()
    if permit.business_address and rng.random() < 0.6:
        business = f"Jl. {fake.street()} No. {rng.randint(1, 300)}"
    else:
        business = applicant.address
    finished = next((s["waktu"] for s in steps if s["status"] in FINISHED), None)
    return {
        "no_permohonan": number,
        "jenis_pemohon": "BADAN_USAHA" if company else "PERORANGAN",
        "nik_pemohon": applicant.nik,
        "nama_pemohon": applicant.name,
        "nama_perusahaan": fake.company() if company else None,
        "kode_jenis_izin": permit.kode,
        "nama_jenis_izin": permit.nama,
        "sla_hari": permit.sla_hari,
        "jenis_permohonan": kind,
        "tgl_pengajuan": iso(submitted),
        "tgl_berkas_lengkap": iso(complete_at),
        "kode_kelurahan": applicant.kelurahan_code,
        "alamat_usaha": business,
        "status": steps[-1]["status"],
        "persyaratan": [{"nama": r, "terpenuhi": r not in still_missing}
                        for r in permit.requirements],
        "riwayat": [{"status": s["status"], "waktu": iso(s["waktu"]), "catatan": s["catatan"],
                     "petugas": s["petugas"]} for s in steps],
        "tgl_selesai": iso(finished),
    }
