"""The client for a tenant's CRM web API (SPEC §9), as the platform's integration service.

It calls ``<webapi_url>v1/<Entity>`` with a short-lived integration-service access token for the app
the work is for, follows ``odata.nextLink`` paging, retries transient failures only, raises typed
errors and records every call against the app and tenant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.utils import timezone

from provisioning import outbound
from provisioning.models import Authorization
from provisioning.services.integration_tokens import issue_integration_token
from tenants.endpoints import webapi_url

from .calls import CallRecorder, is_transient, with_retries
from .models import CallTarget

PAGE_SIZE = 200


class CrmApiError(Exception):
    def __init__(self, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.transient = transient


class CrmNotFound(CrmApiError):
    pass


class CrmRefused(CrmApiError):
    """A 4xx: the CRM refused what was sent (the message names the problem)."""


def odata_text(value: str) -> str:
    """A string literal for $filter."""
    return "'" + value.replace("'", "''") + "'"


def odata_time(moment: datetime) -> str:
    return odata_text(moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"))


class CrmApi:
    def __init__(
        self, authorization: Authorization, recorder: CallRecorder, *, retry_delays: list[float] | None = None
    ):
        self.authorization = authorization
        self.base = webapi_url(authorization.tenant)
        if not self.base.endswith("/"):
            self.base += "/"
        self.recorder = recorder
        self.retry_delays = settings.INTEGRATION_RETRY_DELAYS if retry_delays is None else retry_delays
        self.session = outbound.new_session()
        self._token: str | None = None
        self._expires: datetime | None = None

    def close(self) -> None:
        self.session.close()

    def _bearer(self) -> str:
        if self._token is None or self._expires - timedelta(seconds=60) <= timezone.now():
            self._token, self._expires = issue_integration_token(authorization=self.authorization)
        return self._token

    def _request(
        self, method: str, url: str, operation: str, body: object = None, *, idempotent: bool = True
    ) -> object:
        """One call; transient failures are tried again, except that a call which is not idempotent
        (creating a record) is only tried again after 429, which says it was not carried out."""
        def problem_of(result) -> str:
            if result.problem and result.status_code and 400 <= result.status_code < 500:
                return f"HTTP {result.status_code}: {_message(result.body)}"
            return result.problem

        result = with_retries(
            lambda: outbound.request(
                method,
                url,
                json=body,
                purpose=f"crm:{operation}",
                session=self.session,
                headers={"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"},
                max_response_bytes=settings.INTEGRATION_MAX_RESPONSE_BYTES,
            ),
            record=lambda result: self.recorder.record(
                target=CallTarget.CRM,
                operation=operation,
                status_code=result.status_code,
                duration_ms=result.duration_ms,
                error=problem_of(result),
            ),
            delays=self.retry_delays,
            may_retry=lambda result: idempotent or result.status_code == 429,
        )
        problem = problem_of(result)
        if not problem:
            if result.status_code == 204 or not result.body:
                return None
            try:
                return json.loads(result.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise CrmApiError(
                    f"The CRM API's answer to {operation} is not JSON.", status=result.status_code
                ) from None
        if result.status_code == 404:
            raise CrmNotFound(f"{operation}: not found in the CRM.", status=404)
        if result.status_code == 401:
            self._token = None  # a revoked or expired token: the next call asks for a new one
        kind = CrmRefused if result.status_code and 400 <= result.status_code < 500 else CrmApiError
        raise kind(
            f"{operation} failed: {problem}", status=result.status_code, transient=is_transient(result)
        )

    def _url(self, path: str, params: dict | None = None) -> str:
        url = self.base + path
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")}, quote_via=quote)
        return url

    def _same_origin(self, url: str) -> bool:
        """nextLink must stay on the tenant's API: a CRM cannot send the token elsewhere."""
        here, there = urlsplit(self.base), urlsplit(url)
        return (here.scheme, here.netloc) == (there.scheme, there.netloc) and there.path.startswith(here.path)

    def list(
        self,
        entity: str,
        *,
        select: list[str] | None = None,
        filter: str = "",
        order_by: str = "",
        page_size: int = PAGE_SIZE,
    ) -> Iterator[dict]:
        """Every row of a query, page by page."""
        url = self._url(
            f"v1/{entity}",
            {"$select": ",".join(select or []), "$filter": filter, "$orderBy": order_by, "$top": page_size},
        )
        while url:
            page = self._request("GET", url, f"GET {entity}")
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                raise CrmApiError(f"The CRM API's list of {entity} has no value list.")
            yield from (row for row in page["value"] if isinstance(row, dict))
            url = page.get("odata.nextLink") or ""
            if url and not self._same_origin(url):
                raise CrmApiError(f"The CRM API's next page of {entity} points elsewhere.")

    def get(self, entity: str, pk: int) -> dict:
        return self._entity(
            self._request("GET", self._url(f"v1/{entity}/{int(pk)}"), f"GET {entity}/{{id}}"), entity
        )

    def create(self, entity: str, body: dict) -> dict:
        answer = self._request("POST", self._url(f"v1/{entity}"), f"POST {entity}", body, idempotent=False)
        return self._entity(answer, entity)

    def update(self, entity: str, pk: int, body: dict) -> dict:
        return self._entity(
            self._request("PUT", self._url(f"v1/{entity}/{int(pk)}"), f"PUT {entity}/{{id}}", body), entity
        )

    def delete(self, entity: str, pk: int) -> None:
        self._request("DELETE", self._url(f"v1/{entity}/{int(pk)}"), f"DELETE {entity}/{{id}}")

    def list_items(self, list_name: str) -> list[dict]:
        items = self._request("GET", self._url(f"v1/List/{quote(list_name)}/Items"), f"GET List/{list_name}")
        if not isinstance(items, list):
            raise CrmApiError(f"The CRM API's {list_name} list is not a list.")
        return [item for item in items if isinstance(item, dict)]

    @staticmethod
    def _entity(body: object, entity: str) -> dict:
        if not isinstance(body, dict):
            raise CrmApiError(f"The CRM API's {entity} answer is not an object.")
        return body


def _message(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return body[:200].decode("utf-8", "replace")
    if isinstance(data, dict):
        for key in ("Error", "error", "Message", "message", "detail"):
            if data.get(key):
                return str(data[key])[:500]
    return str(data)[:200]
