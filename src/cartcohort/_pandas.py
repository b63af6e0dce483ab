"""The few pandas idioms whose behaviour changed between pandas 2.2 and 3.x, written once.

cartcohort supports pandas 2.2 through 3.x. Two changes of pandas 3 matter here:

* ``Series.to_numpy()`` and ``.values`` may return a **read-only view** (copy-on-write).
  Code that modifies such an array in place must copy it first (``to_numpy(copy=True)``)
  or build a new array (``a = a & b`` instead of ``a &= b``).
* Building a ``Categorical`` from values that are **not among its categories** (they used to
  become missing silently) is deprecated in pandas 3.1 and will raise. :func:`categorical`
  and :func:`category_codes` make that mapping explicit, so values outside the categories
  become missing on every pandas version without a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["categorical", "category_codes"]


def category_codes(values: Iterable[object], categories: Sequence[object]) -> npt.NDArray[np.int64]:
    """Position of each value in ``categories``; -1 for missing values and values not listed.

    Missing means ``None``, ``NaN``, ``pd.NA`` or ``NaT`` unless ``categories`` itself lists one
    of them (it never should).
    """
    index = pd.Index(list(categories), dtype=object)
    if isinstance(values, pd.Series | pd.Index):
        # Categoricals and pandas' own str dtype compare as plain objects against `index`.
        arr = values.astype(object).to_numpy()
    else:
        arr = np.asarray(
            list(values) if not isinstance(values, np.ndarray) else values, dtype=object
        )
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    return np.asarray(index.get_indexer(pd.Index(arr, dtype=object)), dtype=np.int64)


def categorical(
    values: Iterable[object], categories: Sequence[object], *, ordered: bool = False
) -> pd.Categorical:
    """A ``Categorical`` of ``values`` over ``categories``; values not listed become missing.

    The same result as ``pd.Categorical(values, categories=...)`` under pandas 2.x, without
    pandas 3.1's deprecation of the silent mapping to missing.
    """
    cats = list(categories)
    dtype = pd.CategoricalDtype(cats, ordered=ordered)
    result: pd.Categorical = pd.Categorical.from_codes(category_codes(values, cats), dtype=dtype)
    return result
