"""OpenTelemetry client spans for every request: ``Docker(hooks=OpenTelemetryHooks())``.

Needs ``opentelemetry-api`` (an SDK or distro to export the spans). Nothing in
the package imports this module: OpenTelemetry is loaded only by code that
imports it. Spans are named after the HTTP method, of kind CLIENT, with the
HTTP semantic-convention attributes: ``http.request.method``, ``url.full``
(the daemon URL followed by the request target, secrets redacted),
``url.path``, ``server.address``/``server.port`` (tcp and ssh) or
``network.transport``/``network.peer.address`` (unix sockets and named
pipes), ``http.response.status_code``, ``http.request.body.size``,
``http.response.body.size`` and, on failure, ``error.type`` with an ERROR
status. A stream's span ends when the stream does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._core.hooks import CANCELLED, ERROR, RequestHooks, RequestInfo, RequestResult

__all__ = ("OpenTelemetryHooks",)

_SPAN_KEY = "otel.span"


def _endpoint_attributes(endpoint: str) -> dict[str, Any]:
    parts = urlsplit(endpoint)
    if parts.scheme in ("unix", "npipe"):
        return {
            "network.transport": "unix" if parts.scheme == "unix" else "pipe",
            "network.peer.address": parts.path,
        }
    attributes: dict[str, Any] = {}
    if parts.hostname:
        attributes["server.address"] = parts.hostname
    if parts.port:
        attributes["server.port"] = parts.port
    return attributes


class OpenTelemetryHooks(RequestHooks):
    """Request hooks that record one CLIENT span per request.

    Args:
        tracer_provider: where spans go; the global provider when None.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer("aiodocker", tracer_provider=tracer_provider)

    def on_request_start(self, request: RequestInfo) -> None:
        attributes = {
            "http.request.method": request.method,
            "url.full": request.endpoint.rstrip("/") + request.path,
            "url.path": request.path.partition("?")[0],
            **_endpoint_attributes(request.endpoint),
        }
        request.context[_SPAN_KEY] = self._tracer.start_span(
            request.method, kind=SpanKind.CLIENT, attributes=attributes
        )

    def on_request_end(self, request: RequestInfo, result: RequestResult) -> None:
        span = request.context.pop(_SPAN_KEY, None)
        if span is None:
            return
        span.set_attribute("http.response.status_code", result.status)
        span.set_attribute("http.request.body.size", result.bytes_sent)
        span.set_attribute("http.response.body.size", result.bytes_received)
        if result.status >= 400:
            span.set_attribute("error.type", str(result.status))
            span.set_status(Status(StatusCode.ERROR))
        elif result.end in (ERROR, CANCELLED) and result.error is not None:
            span.record_exception(result.error)
            span.set_attribute("error.type", type(result.error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, str(result.error)))
        span.end()

    def on_request_error(self, request: RequestInfo, error: BaseException, duration: float) -> None:
        span = request.context.pop(_SPAN_KEY, None)
        if span is None:
            return
        span.record_exception(error)
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end()
