"""The one client of the simulator's admin API (see :mod:`rackpanel.simulator.cluster.admin`).

It sends what the API asks of a caller: JSON bodies as ``Content-Type: application/json`` and,
when ``$RACKPANEL_ADMIN_TOKEN`` is set, ``Authorization: Bearer <token>``.

    admin = AdminClient("127.0.0.1:9499")
    admin.power("off", "DC1/RAC2")   # {"affected": [...], ...}
    admin.state()                    # nodes, links, hints
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from rackpanel.simulator.cluster.admin import admin_token

TIMEOUT_SECONDS = 5.0


class AdminError(Exception):
    """The API refused the request (``status`` > 0) or could not be reached (``status`` 0)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class AdminClient:
    def __init__(
        self, address: str, token: str | None = None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        address = address.removeprefix("http://").rstrip("/")
        self.url = f"http://{address}"
        self.token = token if token is not None else admin_token()
        self.timeout = timeout

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def state(self, views: str | None = None) -> dict[str, Any]:
        """``views``: "full" (every observer's verdict), "summary" (counts), None: by size."""
        return self._call("GET", "/state" if views is None else f"/state?views={views}")

    def power(self, action: str, target: str, crash: bool = False) -> dict[str, Any]:
        return self._call("POST", "/power", {"action": action, "target": target, "crash": crash})

    def repair(self, keyspace: str | None = None) -> dict[str, Any]:
        """A full repair of one keyspace (or every user keyspace)."""
        return self._call("POST", "/repair", {} if keyspace is None else {"keyspace": keyspace})

    def reset(self) -> dict[str, Any]:
        """Every node on, links up, views UP; pending hints are replayed, not dropped."""
        return self._call("POST", "/reset", {})

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except (ValueError, AttributeError):
                message = exc.reason
            raise AdminError(str(message), exc.code) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise AdminError(
                f"cannot reach the simulator's admin API at {self.url} ({reason}); "
                "is `rackpanel sim` (or `rackpanel demo`) running?"
            ) from None
