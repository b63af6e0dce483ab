"""cartcohort._pandas: the same categoricals on pandas 2.2 and 3.x, without deprecation warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from cartcohort._pandas import categorical, category_codes

LEVELS = ["CR", "CRi", "PR", "NR"]


def test_values_outside_the_categories_become_missing_without_a_warning() -> None:
    # pytest turns warnings into errors: pandas 3.1 warns when pd.Categorical does this.
    cat = categorical(["CR", "PD", None, np.nan, "NR"], LEVELS, ordered=True)
    assert list(cat.codes) == [0, -1, -1, -1, 3]
    assert cat.ordered
    assert list(cat.categories) == LEVELS


def test_codes_from_string_categorical_and_object_series() -> None:
    for values in (
        pd.Series(["PR", None, "CRi"], dtype="string"),
        pd.Series(["PR", None, "CRi"], dtype=object),
        pd.Series(pd.Categorical(["PR", None, "CRi"], categories=["CRi", "PR"])),
    ):
        assert category_codes(values, LEVELS).tolist() == [2, -1, 1]
    assert category_codes([], LEVELS).dtype == np.int64


def test_numbers_match_by_value_as_pandas_does() -> None:
    assert category_codes([1.0, 2, 3], [1, 2]).tolist() == [0, 1, -1]
    assert category_codes([True, False, None], [False, True]).tolist() == [1, 0, -1]


@given(st.lists(st.sampled_from([*LEVELS, "PD", "", None]), max_size=30))
def test_codes_are_the_position_in_the_categories_or_minus_one(values: list[str | None]) -> None:
    expected = [LEVELS.index(v) if v in LEVELS else -1 for v in values]
    assert category_codes(values, LEVELS).tolist() == expected
    assert categorical(values, LEVELS).codes.tolist() == expected
