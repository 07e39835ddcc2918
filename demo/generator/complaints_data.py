"""Public complaints (`laporan`, demo/API.md) in the LAPOR!-style workflow of DESIGN.md.

DITERIMA -> (within 3 working days, mostly) TERVERIFIKASI | DITUNDA | BUKAN_WEWENANG |
DIARSIPKAN; DITUNDA -> TERVERIFIKASI; TERVERIFIKASI -> DIDISPOSISIKAN ->
DITINDAKLANJUTI (within 5 working days, mostly) <-> TANGGAPAN_PELAPOR -> SELESAI
(automatically 10 working days after a follow-up the reporter did not answer).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator, Sequence

from faker import Faker

from demo.generator.calendar import WIB, WorkCalendar
from demo.generator.codes import Weighted
from demo.generator.errors import GeneratorInputError
from demo.generator.regions import Region
from demo.generator.sample import Resident
from demo.generator.timeline import Timeline, iso, random_suffix

TRANSITIONS: dict[str, frozenset[str]] = {
    "DITERIMA": frozenset({"TERVERIFIKASI", "DITUNDA", "BUKAN_WEWENANG", "DIARSIPKAN"}),
    "DITUNDA": frozenset({"TERVERIFIKASI"}),
    "TERVERIFIKASI": frozenset({"DIDISPOSISIKAN"}),
    "DIDISPOSISIKAN": frozenset({"DITINDAKLANJUTI"}),
    "DITINDAKLANJUTI": frozenset({"TANGGAPAN_PELAPOR", "SELESAI"}),
    "TANGGAPAN_PELAPOR": frozenset({"DITINDAKLANJUTI", "SELESAI"}),
    "BUKAN_WEWENANG": frozenset(),
    "DIARSIPKAN": frozenset(),
    "SELESAI": frozenset(),
}
AUTO_CLOSE_WORKING_DAYS = 10


@dataclass(frozen=True, slots=True)
class Topic:
    judul: str
    isi: str
    klasifikasi: str = "PENGADUAN"


@dataclass(frozen=True, slots=True)
class Category:
    nama: str
    weight: float
    unit: str  # the city agency it is usually disposed to; "{city}" is filled in
    topics: tuple[Topic, ...]


_T = Topic
CATEGORIES: tuple[Category, ...] = (
    Category("Infrastruktur", 20, "Dinas PUPR {city}", (
        _T("Jalan berlubang di {jalan}", "Jalan di {jalan}, Kelurahan {kel}, berlubang cukup dalam dan membahayakan pengendara, terutama pada malam hari. Mohon segera diperbaiki."),
        _T("Lampu penerangan jalan mati di {jalan}", "Sudah dua minggu lampu penerangan jalan di {jalan} RT {rt} tidak menyala sehingga rawan kecelakaan dan kejahatan."),
        _T("Usulan semenisasi {jalan}", "Warga RT {rt} RW {rw} Kelurahan {kel} mengusulkan semenisasi jalan karena becek saat hujan.", "ASPIRASI"),
    )),
    Category("Kebersihan", 13, "DLHK {city}", (
        _T("Sampah menumpuk di {jalan}", "Tumpukan sampah di {jalan} sudah lebih dari seminggu tidak diangkut dan menimbulkan bau tidak sedap."),
        _T("Pembuangan sampah liar di lahan kosong", "Lahan kosong di {jalan}, Kelurahan {kel}, dijadikan tempat pembuangan sampah liar oleh warga sekitar."),
        _T("Jadwal pengangkutan sampah di Kelurahan {kel}", "Mohon informasi jadwal pengangkutan sampah dan besaran retribusi untuk RT {rt} RW {rw}.", "PERMINTAAN_INFORMASI"),
    )),
    Category("Administrasi Kependudukan", 11, "Disdukcapil {city}", (
        _T("KTP elektronik belum dicetak", "Saya sudah melakukan perekaman KTP elektronik beberapa bulan lalu namun sampai sekarang belum dicetak dengan alasan blangko kosong."),
        _T("Perbaikan data Kartu Keluarga", "Data pada Kartu Keluarga saya salah tulis dan perbaikannya belum selesai walau sudah lewat batas waktu."),
        _T("Syarat pindah domisili", "Mohon informasi persyaratan surat pindah datang dari luar provinsi ke Kelurahan {kel}.", "PERMINTAAN_INFORMASI"),
    )),
    Category("Pelayanan Perizinan", 8, "DPMPTSP {city}", (
        _T("Izin belum terbit melewati batas waktu", "Permohonan izin saya sudah lengkap tetapi belum terbit walaupun sudah melewati waktu layanan yang dijanjikan."),
        _T("Syarat Persetujuan Bangunan Gedung", "Mohon informasi persyaratan dan biaya PBG untuk rumah tinggal di Kelurahan {kel}.", "PERMINTAAN_INFORMASI"),
        _T("Usulan layanan perizinan keliling", "Mohon diadakan layanan perizinan keliling di kantor kelurahan agar pelaku usaha mikro terbantu.", "ASPIRASI"),
    )),
    Category("Keamanan dan Ketertiban", 10, "Satpol PP {city}", (
        _T("Balap liar setiap malam di {jalan}", "Setiap malam minggu terjadi balap liar di {jalan} yang mengganggu ketenangan warga RT {rt}."),
        _T("Pedagang kaki lima menutup trotoar", "Pedagang kaki lima di {jalan} berjualan di atas trotoar sehingga pejalan kaki terpaksa turun ke jalan."),
        _T("Reklame liar di {jalan}", "Banyak spanduk dan reklame tanpa izin terpasang di tiang listrik sepanjang {jalan}."),
    )),
    Category("Kesehatan", 7, "Dinas Kesehatan {city}", (
        _T("Permohonan fogging di RT {rt} RW {rw}", "Sudah ada beberapa warga RT {rt} RW {rw} Kelurahan {kel} yang terkena demam berdarah. Mohon dilakukan pengasapan."),
        _T("Antrean panjang di puskesmas", "Antrean di puskesmas sangat panjang dan loket pendaftaran baru buka setelah pukul sembilan."),
        _T("Jadwal posyandu dan imunisasi", "Mohon informasi jadwal posyandu dan imunisasi balita di Kelurahan {kel}.", "PERMINTAAN_INFORMASI"),
    )),
    Category("Pendidikan", 6, "Dinas Pendidikan {city}", (
        _T("Pungutan di sekolah negeri", "Sekolah negeri di Kelurahan {kel} memungut biaya seragam dan kegiatan yang memberatkan orang tua murid."),
        _T("Informasi zonasi penerimaan murid baru", "Mohon informasi zonasi dan jadwal penerimaan murid baru untuk SMP negeri terdekat dari Kelurahan {kel}.", "PERMINTAAN_INFORMASI"),
        _T("Usulan penambahan sekolah negeri", "Jumlah SD negeri di Kelurahan {kel} tidak sebanding dengan jumlah anak usia sekolah. Kami mengusulkan pembangunan sekolah baru.", "ASPIRASI"),
    )),
    Category("Sosial", 6, "Dinas Sosial {city}", (
        _T("Bantuan sosial tidak tepat sasaran", "Penerima bantuan sosial di RT {rt} RW {rw} banyak yang tergolong mampu, sementara warga miskin tidak terdata."),
        _T("Cara mendaftar DTKS", "Bagaimana cara mendaftarkan keluarga kami ke Data Terpadu Kesejahteraan Sosial?", "PERMINTAAN_INFORMASI"),
    )),
    Category("Lingkungan Hidup", 6, "DLHK {city}", (
        _T("Asap pembakaran sampah dan lahan", "Warga sekitar {jalan} terganggu asap pembakaran lahan dan sampah hampir setiap sore."),
        _T("Limbah usaha mencemari parit", "Limbah cair dari usaha pencucian di {jalan} dibuang ke parit dan menimbulkan bau."),
        _T("Usulan penghijauan di {jalan}", "Kami mengusulkan penanaman pohon pelindung di sepanjang {jalan}.", "ASPIRASI"),
    )),
    Category("Banjir dan Drainase", 13, "Dinas PUPR {city}", (
        _T("Drainase tersumbat di {jalan}", "Saluran drainase di {jalan} tersumbat sedimen dan sampah sehingga air meluap ke jalan saat hujan."),
        _T("Banjir setiap hujan di RT {rt} RW {rw}", "Setiap hujan deras rumah warga RT {rt} RW {rw} Kelurahan {kel} tergenang hingga setinggi lutut."),
        _T("Usulan normalisasi parit", "Warga mengusulkan normalisasi parit utama di Kelurahan {kel} sebelum musim hujan.", "ASPIRASI"),
    )),
)
_CLASSIFICATION = Weighted([("PENGADUAN", 70), ("ASPIRASI", 17), ("PERMINTAAN_INFORMASI", 13)])
_GENERIC = {
    "ASPIRASI": Topic("Usulan perbaikan layanan {kategori}",
                      "Kami berharap layanan {kategori} di Kelurahan {kel} dapat ditingkatkan.", "ASPIRASI"),
    "PERMINTAAN_INFORMASI": Topic("Permintaan informasi {kategori}",
                                  "Mohon informasi prosedur layanan {kategori} di Kelurahan {kel}.",
                                  "PERMINTAAN_INFORMASI"),
}
_CHANNEL = Weighted([("WEBSITE", 34), ("APLIKASI_MOBILE", 36), ("SMS", 7), ("MEDIA_SOSIAL", 13),
                     ("LANGSUNG", 10)])
_VISIBILITY = Weighted([("PUBLIK", 80), ("RAHASIA", 12), ("ANONIM", 8)])
_FIRST_DECISION = Weighted([("TERVERIFIKASI", 80), ("DITUNDA", 6), ("BUKAN_WEWENANG", 7),
                            ("DIARSIPKAN", 7)])
_FOLLOW_UPS = (
    "Telah dilakukan peninjauan lapangan dan penanganan dijadwalkan minggu ini.",
    "Petugas telah menindaklanjuti laporan di lokasi.",
    "Laporan telah ditangani; mohon konfirmasi pelapor bila masih ada kendala.",
    "Penanganan dimasukkan dalam program kerja tahun anggaran berjalan.",
    "Informasi yang diminta telah disampaikan kepada pelapor.",
)


def categories() -> list[str]:
    return [c.nama for c in CATEGORIES]


def generate_complaints(
    *,
    region: Region,
    reporters: Sequence[Resident],
    count: int,
    seed: int,
    today: date,
    catalogue: Sequence[Category] = CATEGORIES,
    years: int = 2,
) -> Iterator[dict[str, Any]]:
    """Yield `count` complaints in order of reporting over `years` up to `today`."""
    if count < 0:
        raise GeneratorInputError(f"count must not be negative, got {count}")
    if count and not reporters:
        raise GeneratorInputError("complaints need at least one resident as reporter")
    rng = random.Random(f"{seed}:complaints")
    fake = Faker("id_ID")
    fake.seed_instance(seed + 2)
    start = date(today.year - years, today.month, min(today.day, 28))
    calendar = WorkCalendar(first_year=start.year, last_year=today.year + 2)
    now = datetime.combine(today, time(23, 59, 59), WIB)
    kelurahan = {k.code: k.name for k in region.kelurahan}
    kel_codes = list(kelurahan)
    kinds = Weighted([(c, c.weight) for c in catalogue])
    span = (today - start).days
    moments = sorted(
        datetime.combine(start + timedelta(days=rng.randint(0, span)), time(0), WIB)
        + timedelta(minutes=rng.randint(6 * 60, 23 * 60 + 59))
        for _ in range(count)
    )
    used: set[str] = set()
    for reported in moments:
        if reported > now:
            reported = now
        number = ""
        while not number or number in used:
            number = f"LPR-{reported.year}-{random_suffix(rng, 6)}"
        used.add(number)
        reporter = rng.choice(reporters)
        code = reporter.kelurahan_code if rng.random() < 0.85 else rng.choice(kel_codes)
        yield _complaint(rng, fake, calendar, now, region.city, number, kinds.draw(rng),
                         reporter, code, kelurahan.get(code, code), reported)


def _complaint(rng: random.Random, fake: Faker, calendar: WorkCalendar, now: datetime,
               city: str, number: str, category: Category, reporter: Resident,
               kel_code: str, kel_name: str, reported: datetime) -> dict[str, Any]:
    classification = _CLASSIFICATION.draw(rng)
    topics = [t for t in category.topics if t.klasifikasi == classification]
    topic = rng.choice(topics) if topics else _GENERIC.get(classification, category.topics[0])
    street = f"Jl. {fake.street()}"
    rt, rw = (reporter.rt, reporter.rw) if kel_code == reporter.kelurahan_code else (
        f"{rng.randint(1, 8):03d}", f"{rng.randint(1, 15):03d}")
    fill = {"jalan": street, "kel": kel_name, "rt": rt[1:], "rw": rw[1:],
            "kategori": category.nama}
    channel = _CHANNEL.draw(rng)
    visibility = _VISIBILITY.draw(rng)
    anonymous_walk_in = visibility == "ANONIM" and rng.random() < 0.3
    if anonymous_walk_in:
        channel = rng.choice(("LANGSUNG", "SMS"))
    unit = category.unit.format(city=city)
    if rng.random() < 0.25:
        unit = f"Kelurahan {kel_name}"
    disposisi: list[dict[str, Any]] = []
    tindak_lanjut: list[dict[str, Any]] = []

    t = Timeline(calendar, reported)
    t.at("DITERIMA", reported, catatan=None)
    late = rng.random() < 0.12
    decision = _FIRST_DECISION.draw(rng)
    t.after(decision, rng.uniform(3.2, 12) * 480 if late else rng.uniform(0.05, 2.9) * 480,
            catatan=_decision_note(decision))
    if decision == "DITUNDA" and rng.random() < 0.8:
        # the reporter supplied what was missing; otherwise it stays postponed
        decision = "TERVERIFIKASI"
        t.after(decision, rng.uniform(2, 10) * 480, catatan=_decision_note(decision))
    if decision == "TERVERIFIKASI":
        disposed = t.after("DIDISPOSISIKAN", rng.uniform(0.05, 2) * 480,
                           catatan=f"Diteruskan ke {unit}")
        disposisi.append({"ke_unit": unit, "waktu": disposed, "catatan": "Mohon ditindaklanjuti"})
        if rng.random() < 0.15:
            extra = f"Kelurahan {kel_name}" if not unit.startswith("Kelurahan") else category.unit.format(city=city)
            disposisi.append({"ke_unit": extra, "waktu": calendar.add_working_minutes(disposed, rng.uniform(5, 60)),
                              "catatan": "Untuk koordinasi"})
        slow = rng.random() < 0.2
        answer = t.after("DITINDAKLANJUTI", rng.uniform(5.2, 20) * 480 if slow
                         else rng.uniform(0.3, 4.9) * 480, catatan=None)
        tindak_lanjut.append({"unit": unit, "waktu": answer, "isi": rng.choice(_FOLLOW_UPS)})
        can_reply = not anonymous_walk_in
        rounds = 0
        while True:
            if can_reply and rounds < 2 and rng.random() < 0.3:
                t.after("TANGGAPAN_PELAPOR", rng.uniform(0.5, 8) * 480,
                                catatan="Pelapor menanggapi tindak lanjut")
                rounds += 1
                if rng.random() < 0.5:
                    t.after("SELESAI", rng.uniform(0.1, 2) * 480, catatan="Pelapor menyatakan selesai")
                    break
                answer = t.after("DITINDAKLANJUTI", rng.uniform(0.5, 5) * 480, catatan=None)
                tindak_lanjut.append({"unit": unit, "waktu": answer, "isi": rng.choice(_FOLLOW_UPS)})
                continue
            t.after("SELESAI", AUTO_CLOSE_WORKING_DAYS * 480,
                    catatan="Ditutup otomatis: tidak ada tanggapan pelapor dalam 10 hari kerja")
            break
    return {
        "no_tiket": number,
        "judul": topic.judul.format(**fill)[:200],
        "isi": topic.isi.format(**fill),
        "klasifikasi": classification,
        "kategori": category.nama,
        "kode_kelurahan": kel_code,
        "lokasi": f"{street} RT {rt[1:]} RW {rw[1:]}",
        "kanal": channel,
        "kerahasiaan": visibility,
        "nik_pelapor": None if anonymous_walk_in else reporter.nik,
        "tgl_lapor": iso(reported),
        "status": t.until(now)[-1]["status"],
        "disposisi": [{**d, "waktu": iso(d["waktu"])} for d in disposisi if d["waktu"] <= now],
        "tindak_lanjut": [{**f, "waktu": iso(f["waktu"])} for f in tindak_lanjut if f["waktu"] <= now],
        "riwayat": [{"status": s["status"], "waktu": iso(s["waktu"]), "catatan": s["catatan"]}
                    for s in t.until(now)],
    }


def _decision_note(status: str) -> str | None:
    return {
        "TERVERIFIKASI": "Laporan memenuhi syarat",
        "DITUNDA": "Menunggu kelengkapan informasi dari pelapor",
        "BUKAN_WEWENANG": "Bukan kewenangan pemerintah kota",
        "DIARSIPKAN": "Laporan tidak dapat ditindaklanjuti (duplikat/tidak jelas)",
    }.get(status)
