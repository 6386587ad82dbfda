"""Prometheus metrics for HTTP traffic. Labels are route templates, never raw paths."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltbook.telemetry import BUCKETS, SPECS, Telemetry


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "voltbook_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "voltbook_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )


class BackgroundErrors:
    """`voltbook_background_errors_total{handler=...}`: failures of event handlers and of
    background work, read from the running services' count when scraped."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "voltbook_background_errors",
            "Failures of event handlers and background work",
            labels=["handler"],
        )
        for handler, count in sorted(self._counts().items()):
            family.add_metric([handler], count)
        yield family


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task or body copy)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


class TelemetryCollector:
    """Serves the server's own counts (voltbook.telemetry) as Prometheus metrics."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def describe(self) -> list[Metric]:
        return []  # made fresh on each collect: families are not known ahead

    def collect(self) -> Iterator[Metric]:
        t = self._telemetry
        for name, spec in SPECS.items():
            if spec.kind == "gauge":
                gauge = GaugeMetricFamily(name, spec.help)
                read = t.gauges.get(name)
                if read is not None:
                    gauge.add_metric([], read())
                yield gauge
            elif spec.kind == "counter":
                counter = CounterMetricFamily(name, spec.help, labels=list(spec.labels))
                for labels, value in t.counted(name).items():
                    counter.add_metric(list(labels), value)
                yield counter
            else:
                histogram = HistogramMetricFamily(name, spec.help, labels=list(spec.labels))
                for labels, h in list(t.histograms[name].items()):
                    steps = [(f"{b:g}", float(c)) for b, c in zip(BUCKETS, h.counts, strict=True)]
                    steps.append(("+Inf", float(h.count)))
                    histogram.add_metric(list(labels), steps, sum_value=h.total)
                yield histogram
