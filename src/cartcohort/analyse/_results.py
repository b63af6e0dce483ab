"""Re-export of :mod:`cartcohort._results` (kept so ``cartcohort.analyse._results`` imports work).

Result conventions live below every layer in :mod:`cartcohort._results`, because the
derivations (a lower layer than the statistics) use them too.
"""

from cartcohort._results import (
    ChiSquareTest,
    MethodInfo,
    WarningCollector,
    _version,
    frame_to_ard,
)

__all__ = ["ChiSquareTest", "MethodInfo", "WarningCollector", "_version", "frame_to_ard"]
