"""klimaspejl — a standard-library-only Python client for Copenhagen's climate-data API.

    from klimaspejl import Client, to_csv
    c = Client("http://localhost:8080")
    rows = c.iter_records("energy-district-daily", filters={"district": "eq:Nørrebro"})
    to_csv(rows, "norrebro.csv")            # pandas.read_csv("norrebro.csv")
    c.download("energy-district-hourly", "hourly.csv")   # streamed, resumable
"""

__version__ = "0.1.0"

from .errors import DownloadInterrupted, KlimaspejlError  # noqa: E402
from .client import Client, filter_params  # noqa: E402
from .csvout import to_csv  # noqa: E402
from .download import DownloadResult  # noqa: E402

__all__ = ["Client", "KlimaspejlError", "DownloadInterrupted", "DownloadResult", "to_csv", "filter_params",
           "__version__"]
