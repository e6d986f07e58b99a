"""A small client for the Zoho CRM REST API v8 over httpx.

Why not the official SDK (zohocrmsdk8_0): it keeps tokens in its own store (file or DB
tables of its own), initialises process-wide state, and hides paging, retries and the
request count we need to prove "no per-record calls". The part of the API we use is a
dozen endpoints; this client is short, typed, and testable against a fake over a socket.

Every failure leaves as a `CrmError` subclass with a readable reason. Secrets never reach a
log line or an exception message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils import timezone

logger = logging.getLogger(__name__)

API_VERSION = "v8"
PAGE_SIZE = 200
UPSERT_BATCH = 100  # Zoho's limit for one insert/update/upsert call
# Zoho answers at most 2,000 records through `page`; past that only `page_token` works.
DISCRETE_PAGE_LIMIT = 10


# Every scope the product's calls need (see `required_scope`), as the one string staff paste into
# the Zoho API console when they generate the refresh token. Records of every module we read or
# write (Accounts, Contacts, Deals, and the transaction modules) need modules.ALL; the field
# list and views are read for the set-up steps; the organisation for its base currency.
ZOHO_SCOPES = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.fields.ALL",  # read the field list; create the receivables fields
    "ZohoCRM.settings.custom_views.READ",
    "ZohoCRM.org.READ",
)
ZOHO_SCOPE_STRING = ",".join(ZOHO_SCOPES)


def required_scope(path: str) -> str:
    """The scope of ZOHO_SCOPES that a call to `path` (relative to /crm/v8/) needs.

    Zoho's OAUTH_SCOPE_MISMATCH answer does not say which scope is missing; the path does.
    """
    parts = path.strip("/").split("?")[0].split("/")
    if parts[0] == "org":
        family = "ZohoCRM.org."
    elif parts[0] == "users":
        family = "ZohoCRM.users."
    elif parts[0] == "settings":
        family = f"ZohoCRM.settings.{parts[1] if len(parts) > 1 else ''}."
    else:
        family = "ZohoCRM.modules."
    return next((scope for scope in ZOHO_SCOPES if scope.startswith(family)), family + "READ")


def scope_mismatch_reason(method: str, path: str) -> str:
    """What staff read when Zoho refuses a call for want of a scope: the scope and the way out."""
    return (
        f"Zoho CRM refused {method} {path.strip('/').split('?')[0]}: the refresh token was generated "
        f"without the {required_scope(path)} scope. Generate a new refresh token in the Zoho "
        f"API console with the scopes {ZOHO_SCOPE_STRING} and enter it under Update Credentials."
    )


class CrmError(Exception):
    """A Zoho CRM failure, with a reason fit to show staff."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CrmAuthError(CrmError):
    """The credentials were refused: staff must update them."""


class CrmScopeError(CrmAuthError):
    """The token lacks a scope this call needs (401 OAUTH_SCOPE_MISMATCH); a refresh cannot fix it."""

    def __init__(self, reason: str, *, scope: str):
        super().__init__(reason)
        self.scope = scope


class CrmUnavailable(CrmError):
    """Throttled (429) or server errors (5xx) outlasted the retries, or the network failed."""


class CrmMalformedResponse(CrmError):
    """Zoho answered with something that is not the documented shape."""


class CrmRequestError(CrmError):
    """Zoho refused the request itself (4xx other than auth/throttling)."""


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    more_records: bool
    next_page_token: str | None


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _seconds(value: float) -> str:
    """4 -> "4 s", 0.25 -> "0.25 s": log lines and reasons read as sentences."""
    return f"{value:g} s"


class ZohoClient:
    """One client per sync run (it counts its requests). Not shared between threads."""

    def __init__(
        self,
        *,
        accounts_domain: str,
        api_domain: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        access_token: str = "",
        access_token_expires_at: datetime | None = None,
        on_new_token: Callable[[str, datetime], None] | None = None,
        max_retries: int = 4,
        backoff_seconds: float = 1.0,
        timeout: float = 30.0,
    ):
        self.accounts_domain = accounts_domain.rstrip("/")
        self.api_domain = api_domain.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._access_token = access_token
        self._expires_at = access_token_expires_at
        self._on_new_token = on_new_token
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.request_count = 0
        self.timeout = timeout
        self._http = httpx.Client(timeout=timeout)

    @property
    def access_token(self) -> str:
        return self._access_token

    @property
    def access_token_expires_at(self) -> datetime | None:
        return self._expires_at

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ZohoClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- OAuth -----------------------------------------------------------------------------

    def refresh_access_token(self) -> None:
        """Trade the refresh token for a new access token (POST {accounts}/oauth/v2/token)."""
        data = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }
        response = self._send("POST", f"{self.accounts_domain}/oauth/v2/token", data=data, auth=False)
        body = self._json(response)
        if response.status_code != 200 or "access_token" not in body:
            # Zoho answers 200 with {"error": "invalid_code"} for a revoked refresh token.
            error = body.get("error", f"HTTP {response.status_code}") if isinstance(body, dict) else "unknown"
            raise CrmAuthError(f"Zoho refused the credentials ({error}). Update the CRM credentials.")
        self._access_token = body["access_token"]
        self._expires_at = timezone.now() + timedelta(seconds=int(body.get("expires_in", 3600)) - 60)
        if body.get("api_domain"):
            self.api_domain = body["api_domain"].rstrip("/")
        if self._on_new_token:
            self._on_new_token(self._access_token, self._expires_at)

    def _ensure_token(self) -> None:
        if not self._access_token or (self._expires_at and self._expires_at <= timezone.now()):
            self.refresh_access_token()

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, auth: bool = True, **kwargs) -> httpx.Response:
        """One HTTP exchange with bounded retries on 429/5xx and network errors."""
        attempt = 0
        while True:
            headers = dict(kwargs.pop("headers", None) or {})
            if auth:
                headers["Authorization"] = f"Zoho-oauthtoken {self._access_token}"
            self.request_count += 1
            try:
                response = self._http.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                problem = self._network_problem(exc)
                response = None
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = (
                    "Zoho CRM is throttling requests (HTTP 429)"
                    if response.status_code == 429
                    else f"Zoho CRM had a server error (HTTP {response.status_code})"
                )
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if attempt >= self.max_retries:
                raise CrmUnavailable(
                    f"{problem.rstrip('.')}; gave up after {attempt + 1} attempts. The next sync will try again."
                )
            delay = self.backoff_seconds * (2**attempt)
            if response is not None and response.headers.get("Retry-After", "").isdigit():
                delay = max(delay, min(float(response.headers["Retry-After"]), 60.0))
            # A sentence staff can read in the worker log, e.g. "Zoho CRM did not answer within
            # 30 s; retrying GET /crm/v8/Accounts in 4 s (attempt 2 of 5)."
            logger.info(
                "%s; retrying %s %s in %s (attempt %d of %d).",
                problem.rstrip("."),
                method,
                urlsplit(url).path,
                _seconds(delay),
                attempt + 2,
                self.max_retries + 1,
            )
            time.sleep(delay)
            attempt += 1

    def _network_problem(self, exc: httpx.HTTPError) -> str:
        """Why no answer came, in staff's words: a timeout is not an unreachable server."""
        if isinstance(exc, httpx.TimeoutException):
            return f"Zoho CRM did not answer within {_seconds(self.timeout)}"
        if isinstance(exc, httpx.ConnectError):
            return "Zoho CRM could not be reached (the connection was refused or the address is unknown)"
        return f"The connection to Zoho CRM broke off ({type(exc).__name__})"

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise CrmMalformedResponse(
                f"Zoho CRM sent a response that is not JSON (HTTP {response.status_code})."
            ) from exc

    def request(self, method: str, path: str, *, params=None, json=None, headers=None) -> Any:
        """Call the API; refresh the token once on INVALID_TOKEN. Returns parsed JSON, None on 204."""
        self._ensure_token()
        url = f"{self.api_domain}/crm/{API_VERSION}/{path.lstrip('/')}"
        for attempt in (1, 2):
            response = self._send(method, url, params=params, json=json, headers=headers)
            if response.status_code == 401 and attempt == 1:
                body = self._json(response) if response.content else None
                code = body.get("code") if isinstance(body, dict) else None
                if code in ("INVALID_TOKEN", "AUTHENTICATION_FAILURE", None):
                    self.refresh_access_token()
                    continue
            break
        if response.status_code == 204 or (response.status_code == 304):
            return None
        body = self._json(response)
        if response.status_code == 401 and isinstance(body, dict) and body.get("code") == "OAUTH_SCOPE_MISMATCH":
            raise CrmScopeError(scope_mismatch_reason(method, path), scope=required_scope(path))
        if response.status_code == 401:
            raise CrmAuthError("Zoho CRM refused the access token. Update the CRM credentials.")
        if response.status_code >= 400:
            code = body.get("code", "") if isinstance(body, dict) else ""
            message = body.get("message", "") if isinstance(body, dict) else ""
            raise CrmRequestError(f"Zoho CRM refused the request: {code} {message}".strip())
        return body

    # -- reads -----------------------------------------------------------------------------

    @staticmethod
    def _page(body: Any) -> Page:
        if body is None:
            return Page(records=[], more_records=False, next_page_token=None)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("data"), list)
            or not isinstance(body.get("info"), dict)
        ):
            raise CrmMalformedResponse("Zoho CRM sent a page without its data and info sections.")
        records = body["data"]
        if not all(isinstance(r, dict) and isinstance(r.get("id"), str | int) for r in records):
            raise CrmMalformedResponse("Zoho CRM sent a page with a record that has no id.")
        info = body["info"]
        more = info.get("more_records")
        if not isinstance(more, bool):
            raise CrmMalformedResponse("Zoho CRM sent a page without the more_records flag.")
        return Page(records=records, more_records=more, next_page_token=info.get("next_page_token"))

    def iter_pages(
        self,
        module: str,
        *,
        fields: list[str],
        cvid: str = "",
        modified_since: datetime | None = None,
        path_suffix: str = "",
    ) -> Iterator[Page]:
        """Pages of 200 records; `page` for the first 2,000, then `page_token` (required by Zoho)."""
        params: dict[str, Any] = {"fields": ",".join(fields), "per_page": PAGE_SIZE}
        if cvid:
            params["cvid"] = cvid
        headers = {"If-Modified-Since": _http_date(modified_since)} if modified_since else None
        page_number = 1
        token = None
        while True:
            query = dict(params)
            if token:
                query["page_token"] = token
            else:
                query["page"] = page_number
            page = self._page(self.request("GET", f"{module}{path_suffix}", params=query, headers=headers))
            yield page
            if not page.more_records:
                return
            page_number += 1
            token = page.next_page_token
            if not token and page_number > DISCRETE_PAGE_LIMIT:
                raise CrmMalformedResponse("Zoho CRM stopped giving a page_token past 2,000 records.")

    def iter_deleted(self, module: str, *, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """Ids of records deleted since `since` (recycle bin and permanently deleted); all of
        them Zoho still knows of when `since` is None."""
        headers = {"If-Modified-Since": _http_date(since)} if since else None
        page_number = 1
        while True:
            body = self.request(
                "GET",
                f"{module}/deleted",
                params={"type": "all", "page": page_number, "per_page": PAGE_SIZE},
                headers=headers,
            )
            page = self._page(body)
            yield page.records
            if not page.more_records:
                return
            page_number += 1

    def custom_views(self, module: str) -> list[dict[str, Any]]:
        """The views staff can pick (predefined and user created): [{"id", "name", ...}]."""
        body = self.request("GET", "settings/custom_views", params={"module": module})
        if body is None:
            return []
        if not isinstance(body, dict) or not isinstance(body.get("custom_views"), list):
            raise CrmMalformedResponse("Zoho CRM sent a custom views list in an unknown shape.")
        return [
            {
                "id": str(v["id"]),
                "name": v.get("display_value") or v.get("name", ""),
                "default": bool(v.get("default")),
            }
            for v in body["custom_views"]
        ]

    def base_currency(self) -> str:
        """The CRM organisation's base currency (ISO code), from GET /org."""
        body = self.request("GET", "org")
        orgs = body.get("org") if isinstance(body, dict) else None
        if not isinstance(orgs, list) or not orgs or not isinstance(orgs[0], dict):
            raise CrmMalformedResponse("Zoho CRM sent its organisation details in an unknown shape.")
        return str(orgs[0].get("iso_code") or orgs[0].get("currency") or "")

    def fields(self, module: str) -> list[dict[str, Any]]:
        """The module's fields: [{"api_name", "field_label", "data_type", "custom_field"}]."""
        body = self.request("GET", "settings/fields", params={"module": module})
        if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
            raise CrmMalformedResponse("Zoho CRM sent a field list in an unknown shape.")
        return body["fields"]

    def search(self, module: str, word: str, *, fields: list[str]) -> list[dict[str, Any]]:
        """Records whose text fields contain `word` (the first 200)."""
        body = self.request(
            "GET",
            f"{module}/search",
            params={"word": word, "fields": ",".join(fields), "per_page": PAGE_SIZE},
        )
        return self._page(body).records

    def get_record(self, module: str, record_id: str, *, fields: list[str]) -> dict[str, Any] | None:
        """One record, None when it does not exist (Zoho answers 204)."""
        body = self.request("GET", f"{module}/{record_id}", params={"fields": ",".join(fields)})
        if body is None:
            return None
        records = body.get("data") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r for r in records):
            raise CrmMalformedResponse("Zoho CRM sent a record in an unknown shape.")
        return records[0] if records else None

    def get_records(self, module: str, ids: list[str], *, fields: list[str]) -> list[dict[str, Any]]:
        """Up to 100 records by id in one call (Get Records with `ids`); records gone are left out."""
        if len(ids) > UPSERT_BATCH:
            raise ValueError(f"Zoho reads at most {UPSERT_BATCH} records by id per call")
        if not ids:
            return []
        body = self.request("GET", module, params={"ids": ",".join(ids), "fields": ",".join(fields)})
        return self._page(body).records

    def deals_of_account(self, account_id: str) -> list[dict[str, Any]]:
        """The potentials (Deals) related to an account."""
        body = self.request(
            "GET",
            f"Accounts/{account_id}/Deals",
            params={"fields": "Deal_Name,Stage,Amount,Closing_Date", "per_page": PAGE_SIZE},
        )
        return self._page(body).records

    # -- writes ----------------------------------------------------------------------------

    def upsert(
        self, module: str, records: list[dict[str, Any]], *, duplicate_check_fields: list[str]
    ) -> list[dict[str, Any]]:
        """Insert or update up to 100 records; one result per record, in order."""
        if len(records) > UPSERT_BATCH:
            raise ValueError(f"Zoho upserts at most {UPSERT_BATCH} records per call")
        body = self.request(
            "POST",
            f"{module}/upsert",
            json={"data": records, "duplicate_check_fields": duplicate_check_fields},
        )
        results = body.get("data") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(records):
            raise CrmMalformedResponse("Zoho CRM answered an upsert without one result per record.")
        return results
