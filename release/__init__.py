"""release: turn raw police exports into public files that leak no one."""

import pandas as _pandas

__version__ = "0.1.0"

# pandas 3 backs its string columns with pyarrow whenever pyarrow can be imported, and pyarrow is
# installed for the Parquet files (release.bundle.record_parts). Its string methods then run Arrow's regex
# engine (RE2: other syntax, other classes than Python's re) instead of Python's, so a pattern in the
# rules or a check could match otherwise, or not at all. The strings stay Python-backed: every rule,
# check and test was written and measured against Python's re, and the release a machine builds must
# not depend on which optional packages it has.
_pandas.set_option("mode.string_storage", "python")
