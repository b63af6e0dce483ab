"""Clinical derivations: grades, burden, response, endpoints, kinetics, labs, risk scores.

``cartcohort.derive`` is both this package and the function
:func:`cartcohort.derive.dataset.derive`: Python binds a package's submodules as
attributes of their parent, so once ``cartcohort.derive.<anything>`` is imported,
``cartcohort.derive`` is this module, not the function. Making the module callable keeps
``cartcohort.derive(cohort)`` working either way.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    def __call__(self, cohort: Any, **kwargs: Any) -> Any:
        from cartcohort.derive.dataset import derive

        return derive(cohort, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
