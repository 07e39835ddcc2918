"""Coded respondent demographics of the satisfaction survey (no names, ever).

The categories follow the usual SKM questionnaire of PermenPANRB 14/2017's annex:
age group, sex, last education, main occupation."""

from __future__ import annotations

import enum

SCORE_COUNT = 9  # elements of the regulation, in its order
MIN_SCORE = 1
MAX_SCORE = 4


class AgeGroup(enum.Enum):
    UNDER_20 = "UNDER_20"
    FROM_20_TO_29 = "FROM_20_TO_29"
    FROM_30_TO_39 = "FROM_30_TO_39"
    FROM_40_TO_49 = "FROM_40_TO_49"
    FROM_50_TO_59 = "FROM_50_TO_59"
    FROM_60 = "FROM_60"


class Education(enum.Enum):
    PRIMARY_OR_LESS = "PRIMARY_OR_LESS"  # SD ke bawah
    JUNIOR_SECONDARY = "JUNIOR_SECONDARY"  # SMP
    SENIOR_SECONDARY = "SENIOR_SECONDARY"  # SMA/SMK
    DIPLOMA = "DIPLOMA"  # D1-D3
    BACHELOR = "BACHELOR"  # D4/S1
    POSTGRADUATE = "POSTGRADUATE"  # S2/S3


class Occupation(enum.Enum):
    CIVIL_SERVANT = "CIVIL_SERVANT"  # PNS/TNI/POLRI
    PRIVATE_EMPLOYEE = "PRIVATE_EMPLOYEE"  # pegawai swasta
    ENTREPRENEUR = "ENTREPRENEUR"  # wirausaha
    STUDENT = "STUDENT"  # pelajar/mahasiswa
    OTHER = "OTHER"  # lainnya


class Refusal(enum.Enum):
    """Why an answer was refused, as counted in the store and published with the index."""

    ALREADY_SURVEYED = "ALREADY_SURVEYED"  # the application already has its answer
    DAILY_LIMIT = "DAILY_LIMIT"  # answers without an application: the caller's day is used up
    NOT_ELIGIBLE = "NOT_ELIGIBLE"  # no such application, not finished, or another service
