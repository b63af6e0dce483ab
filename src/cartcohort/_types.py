"""Literal aliases shared by the public API."""

from __future__ import annotations

from typing import Literal

CIMethod = Literal["log-log", "log", "plain"]
Ties = Literal["efron", "breslow"]
PHTransform = Literal["km", "rank", "identity", "log"]
LogisticMethod = Literal["ml", "firth"]
LogisticCIMethod = Literal["wald", "profile"]
CorrelationMethod = Literal["pearson", "spearman"]
Severity = Literal["error", "warning"]
Alternative = Literal["two-sided", "less", "greater"]

__all__ = [
    "Alternative",
    "CIMethod",
    "CorrelationMethod",
    "LogisticCIMethod",
    "LogisticMethod",
    "PHTransform",
    "Severity",
    "Ties",
]
