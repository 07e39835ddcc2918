"""The survey questionnaire in Bahasa Indonesia: one question per element of
PermenPANRB 14/2017, the 1-4 scale, and the coded respondent questions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCALE = ((1, "Tidak baik"), (2, "Kurang baik"), (3, "Baik"), (4, "Sangat baik"))


@dataclass(frozen=True, slots=True)
class Question:
    number: int
    question: str


QUESTIONS = tuple(Question(i, q) for i, q in enumerate((
    "Bagaimana kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
    "Bagaimana kemudahan sistem, mekanisme dan prosedur pelayanan?",
    "Bagaimana kecepatan waktu penyelesaian pelayanan?",
    "Bagaimana kewajaran biaya/tarif pelayanan?",
    "Bagaimana kesesuaian hasil pelayanan dengan yang tercantum dalam standar pelayanan?",
    "Bagaimana kompetensi/kemampuan petugas dalam pelayanan?",
    "Bagaimana perilaku petugas (kesopanan dan keramahan) dalam pelayanan?",
    "Bagaimana penanganan pengaduan, saran dan masukan?",
    "Bagaimana kualitas sarana dan prasarana pelayanan?",
), start=1))

DEMOGRAPHICS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("ageGroup", "Usia", (("UNDER_20", "di bawah 20 tahun"), ("FROM_20_TO_29", "20–29 tahun"),
                          ("FROM_30_TO_39", "30–39 tahun"), ("FROM_40_TO_49", "40–49 tahun"),
                          ("FROM_50_TO_59", "50–59 tahun"), ("FROM_60", "60 tahun ke atas"))),
    ("sex", "Jenis kelamin", (("MALE", "Laki-laki"), ("FEMALE", "Perempuan"))),
    ("education", "Pendidikan terakhir", (("PRIMARY_OR_LESS", "SD ke bawah"), ("JUNIOR_SECONDARY", "SMP"),
                                          ("SENIOR_SECONDARY", "SMA/SMK"), ("DIPLOMA", "D1–D3"),
                                          ("BACHELOR", "D4/S1"), ("POSTGRADUATE", "S2/S3"))),
    ("occupation", "Pekerjaan utama", (("CIVIL_SERVANT", "PNS/TNI/Polri"),
                                       ("PRIVATE_EMPLOYEE", "Pegawai swasta"),
                                       ("ENTREPRENEUR", "Wirausaha"), ("STUDENT", "Pelajar/mahasiswa"),
                                       ("OTHER", "Lainnya"))),
)
FIELD_LIMIT = 100


def survey_input(form: dict[str, str]) -> dict[str, Any] | str:
    """The mutation input from a posted form, or a message saying what is missing."""
    scores = []
    for question in QUESTIONS:
        value = form.get(f"u{question.number}", "")
        if value not in {"1", "2", "3", "4"}:
            return f"Mohon beri nilai untuk pertanyaan {question.number}."
        scores.append(int(value))
    service = form.get("layanan", "")[:FIELD_LIMIT]
    if not service:
        return "Mohon pilih layanan yang Anda terima."
    data: dict[str, Any] = {"service": service, "scores": scores}
    key = form.get("kunci", "")[:FIELD_LIMIT]
    if key:
        data["idempotencyKey"] = key
    number = form.get("nomor", "").strip()[:FIELD_LIMIT]
    if number:
        data["applicationNumber"] = number
    for name, _title, options in DEMOGRAPHICS:
        value = form.get(name, "")
        if value in {code for code, _ in options}:
            data[name] = value
    return data
