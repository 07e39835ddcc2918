"""Synthetic data for the sample source systems: residents, applications, complaints."""

from __future__ import annotations
