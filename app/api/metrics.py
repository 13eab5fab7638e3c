"""Prometheus metrics: requests by route and status, latency by stage, requests in flight.

Each server process keeps its own registry; with several workers behind a load
balancer, each scrape sees the process that answered it.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The service's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "music_emotion_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "music_emotion_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "music_emotion_stage_duration_seconds",
            "Time spent per analysed file in each stage: decode, loudness, spectral, "
            "zero_crossings, timbre, musicnn_input (log-mel patches), musicnn_network, "
            "inference.",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "music_emotion_in_flight_requests",
            "HTTP requests being answered now.",
            registry=self.registry,
        )

    def observe_stages(self, timings_s: dict[str, float]) -> None:
        """Record one file's time per stage."""
        for stage, seconds in timings_s.items():
            self.stages.labels(stage).observe(seconds)


class MetricsMiddleware:
    """ASGI middleware counting every HTTP request and its latency."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.in_flight.dec()
            template = _route_template(scope)
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - start)


def _route_template(scope: Scope) -> str:
    """The path template of the request's route, "unmatched" if none.

    Requests refused by a middleware (413, 503 past capacity) never reached the
    router: a path the OpenAPI document lists as is counts under itself.
    """
    route = scope.get("route")
    if route is not None:
        return route.path
    path = scope["path"]
    return path if path in scope["app"].openapi()["paths"] else "unmatched"
