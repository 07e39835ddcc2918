"""Licensing applications and complaints generated for existing residents."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from demo.generator import complaints_data, licensing_data
from demo.generator.calendar import WorkCalendar
from demo.generator.people import generate_residents
from demo.generator.regions import Region, load_region
from demo.generator.sample import ResidentSample

REGION_FILE = Path(__file__).parents[2] / "hub" / "reference" / "regions.yaml"
TODAY = date(2026, 3, 2)
CALENDAR = WorkCalendar(first_year=2023, last_year=2027)


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region(REGION_FILE)


@pytest.fixture(scope="module")
def population(region: Region) -> tuple[dict[str, dict], ResidentSample]:
    sample = ResidentSample(size=600, seed=3, today=TODAY)
    rows = {r["NIK"]: r for r in sample.observe(
        generate_residents(region=region, residents=8000, seed=3, today=TODAY))}
    return rows, sample


@pytest.fixture(scope="module")
def applications(population) -> list[dict]:
    return list(licensing_data.generate_applications(
        applicants=population[1].residents, count=1500, seed=3, today=TODAY))


@pytest.fixture(scope="module")
def complaints(region, population) -> list[dict]:
    return list(complaints_data.generate_complaints(
        region=region, reporters=population[1].residents, count=1000, seed=3, today=TODAY))


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_sample_holds_only_adult_residents(population):
    rows, sample = population
    assert len(sample.residents) == 600
    for resident in sample.residents:
        assert rows[resident.nik]["NAMA_LGKP"] == resident.name
        assert (TODAY - resident.birth_date).days >= 18 * 365


def test_applicants_are_existing_residents_of_their_kelurahan(population, applications):
    rows = population[0]
    for app in applications:
        row = rows[app["nik_pemohon"]]
        assert row["NAMA_LGKP"] == app["nama_pemohon"]
        assert app["kode_kelurahan"] == row["NO_PROP"] + row["NO_KAB"] + row["NO_KEC"] + row["NO_KEL"]


def test_about_a_fifth_of_applications_are_by_companies(applications):
    companies = [a for a in applications if a["jenis_pemohon"] == "BADAN_USAHA"]
    assert 0.12 < len(companies) / len(applications) < 0.28
    assert all(a["nama_perusahaan"] for a in companies)
    assert all(a["nama_perusahaan"] is None for a in applications if a not in companies)


def test_applications_have_the_api_shape_and_a_known_permit_type(applications):
    types = {p["kode"]: p for p in licensing_data.permit_types()}
    assert 10 <= len(types) <= 15
    for app in applications:
        assert set(app) == {
            "no_permohonan", "jenis_pemohon", "nik_pemohon", "nama_pemohon", "nama_perusahaan",
            "kode_jenis_izin", "nama_jenis_izin", "sla_hari", "jenis_permohonan",
            "tgl_pengajuan", "tgl_berkas_lengkap", "kode_kelurahan", "alamat_usaha", "status",
            "persyaratan", "riwayat", "tgl_selesai"}
        permit = types[app["kode_jenis_izin"]]
        assert (app["nama_jenis_izin"], app["sla_hari"]) == (permit["nama"], permit["sla_hari"])
        assert app["jenis_permohonan"] in ("BARU", "PERUBAHAN", "PERPANJANGAN")


def test_application_numbers_are_unique_and_end_in_a_random_suffix(applications):
    numbers = [a["no_permohonan"] for a in applications]
    assert len(set(numbers)) == len(numbers)
    pattern = re.compile(r"^503/DPMPTSP/(\d{4})/(\d{6})-([2-9A-Z]{4})$")
    matches = [pattern.match(n) for n in numbers]
    assert all(matches)
    assert len({m.group(3) for m in matches}) > len(numbers) * 0.95


def test_application_histories_follow_the_workflow_on_office_hours(applications):
    for app in applications:
        history = app["riwayat"]
        assert history[0]["status"] == "DIAJUKAN"
        assert history[0]["waktu"] == app["tgl_pengajuan"]
        assert history[-1]["status"] == app["status"]
        for before, after in zip(history, history[1:]):
            assert after["status"] in licensing_data.TRANSITIONS[before["status"]], app
            assert _t(after["waktu"]) > _t(before["waktu"])
        assert all(CALENDAR.is_office_hours(_t(step["waktu"])) for step in history)
        assert all(step["petugas"] for step in history)


def test_application_histories_are_accepted_by_the_licensing_service_workflow(applications):
    workflow = pytest.importorskip("demo.licensing.workflow")
    for app in applications:
        for before, after in zip(app["riwayat"], app["riwayat"][1:]):
            assert after["status"] in workflow.TRANSITIONS[before["status"]]


def test_completion_dates_match_the_history(applications):
    for app in applications:
        statuses = [s["status"] for s in app["riwayat"]]
        finished = [s["waktu"] for s in app["riwayat"] if s["status"] in licensing_data.FINISHED]
        assert app["tgl_selesai"] == (finished[0] if finished else None)
        if "ENTRY_DATA" in statuses:
            assert app["tgl_berkas_lengkap"] == app["riwayat"][statuses.index("ENTRY_DATA")]["waktu"]
            assert all(req["terpenuhi"] for req in app["persyaratan"])
        else:
            assert app["tgl_berkas_lengkap"] is None
        if app["status"] == "BERKAS_TIDAK_LENGKAP":
            assert not all(req["terpenuhi"] for req in app["persyaratan"])


def test_old_applications_are_mostly_finished_and_recent_ones_in_progress(applications):
    old = [a for a in applications if _t(a["tgl_pengajuan"]).date() < date(2025, 9, 1)]
    recent = [a for a in applications if _t(a["tgl_pengajuan"]).date() > date(2026, 2, 16)]
    assert sum(a["tgl_selesai"] is not None for a in old) / len(old) > 0.97
    assert sum(a["tgl_selesai"] is None for a in recent) / len(recent) > 0.4
    assert Counter(a["status"] for a in old).keys() >= {"DISERAHKAN", "TERBIT", "DITOLAK"}


def test_some_applications_run_past_their_service_level(applications):
    overdue = 0
    for app in applications:
        if app["tgl_berkas_lengkap"]:
            end = _t(app["tgl_selesai"]).date() if app["tgl_selesai"] else TODAY
            start = _t(app["tgl_berkas_lengkap"]).date()
            overdue += CALENDAR.working_days_between(start, end) > app["sla_hari"]
    assert 0.05 < overdue / len(applications) < 0.35


def test_reporters_are_existing_residents(population, complaints):
    rows = population[0]
    named = [c for c in complaints if c["nik_pelapor"] is not None]
    assert len(named) > len(complaints) * 0.9
    assert all(c["nik_pelapor"] in rows for c in named)
    assert all(c["kerahasiaan"] == "ANONIM" for c in complaints if c["nik_pelapor"] is None)


def test_complaints_have_the_api_shape(region, complaints):
    codes = {k.code for k in region.kelurahan}
    for c in complaints:
        assert set(c) == {"no_tiket", "judul", "isi", "klasifikasi", "kategori", "kode_kelurahan",
                          "lokasi", "kanal", "kerahasiaan", "nik_pelapor", "tgl_lapor", "status",
                          "disposisi", "tindak_lanjut", "riwayat"}
        assert c["kategori"] in complaints_data.categories()
        assert c["kode_kelurahan"] in codes
        assert "{" not in c["judul"] + c["isi"]


def test_ticket_numbers_are_unique_and_not_sequential(complaints):
    numbers = [c["no_tiket"] for c in complaints]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"LPR-\d{4}-[2-9A-Z]{6}", n) for n in numbers)


def test_visibility_and_classification_mixes_are_plausible(complaints):
    visibility = Counter(c["kerahasiaan"] for c in complaints)
    assert 0.72 < visibility["PUBLIK"] / len(complaints) < 0.88
    assert visibility["RAHASIA"] > visibility["ANONIM"] > 0
    assert set(Counter(c["klasifikasi"] for c in complaints)) == {
        "PENGADUAN", "ASPIRASI", "PERMINTAAN_INFORMASI"}
    assert len(Counter(c["kategori"] for c in complaints)) >= 10


def test_complaint_histories_follow_the_lapor_workflow(complaints):
    service = pytest.importorskip("demo.complaints.workflow")
    for c in complaints:
        history = c["riwayat"]
        assert history[0]["status"] == "DITERIMA" and history[0]["waktu"] == c["tgl_lapor"]
        assert history[-1]["status"] == c["status"]
        for before, after in zip(history, history[1:]):
            assert after["status"] in complaints_data.TRANSITIONS[before["status"]]
            assert after["status"] in service.TRANSITIONS[before["status"]]
            assert _t(after["waktu"]) > _t(before["waktu"])
        disposed = [s for s in history if s["status"] == "DIDISPOSISIKAN"]
        assert bool(c["disposisi"]) == bool(disposed)
        followed = [s for s in history if s["status"] == "DITINDAKLANJUTI"]
        assert len(c["tindak_lanjut"]) == len(followed)


def test_most_but_not_all_complaints_are_verified_within_three_working_days(complaints):
    decided = [c for c in complaints if len(c["riwayat"]) > 1]
    late = [c for c in decided
            if CALENDAR.working_days_between(_t(c["riwayat"][0]["waktu"]).date(),
                                             _t(c["riwayat"][1]["waktu"]).date()) > 3]
    assert 0.03 < len(late) / len(decided) < 0.25


def test_unanswered_follow_ups_close_after_ten_working_days(complaints):
    auto = [c for c in complaints if c["status"] == "SELESAI"
            and c["riwayat"][-2]["status"] == "DITINDAKLANJUTI"]
    assert auto
    for c in auto:
        start, end = (_t(c["riwayat"][i]["waktu"]) for i in (-2, -1))
        assert CALENDAR.working_days_between(start.date(), end.date()) == 10


def test_dispositions_go_to_plausible_units(complaints):
    units = Counter(d["ke_unit"] for c in complaints for d in c["disposisi"])
    assert "Dinas PUPR Kota Pekanbaru" in units
    assert any(u.startswith("Kelurahan ") for u in units)


def test_the_same_seed_gives_the_same_applications_and_complaints(region, population):
    sample = population[1].residents
    def apps() -> list[dict]:
        return list(licensing_data.generate_applications(applicants=sample, count=50, seed=9, today=TODAY))
    def reports() -> list[dict]:
        return list(complaints_data.generate_complaints(region=region, reporters=sample, count=50,
                                                        seed=9, today=TODAY))
    assert apps() == apps()
    assert reports() == reports()
