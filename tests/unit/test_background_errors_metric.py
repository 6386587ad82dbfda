"""Handler failures as a Prometheus counter: voltbook_background_errors_total{handler}."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from voltbook.api.metrics import BackgroundErrors
from voltbook.wiring.failures import HandlerFailures


def test_each_handlers_failures_are_counted_under_its_name() -> None:
    failures = HandlerFailures(keep=1)
    failures.record("NoticeReactions.alarm", RuntimeError("a"))
    failures.record("NoticeReactions.alarm", RuntimeError("b"))
    failures.record("charging.flush", ConnectionError("c"))
    registry = CollectorRegistry()
    registry.register(BackgroundErrors(lambda: failures.counts))

    text = generate_latest(registry).decode()

    assert 'voltbook_background_errors_total{handler="NoticeReactions.alarm"} 2.0' in text
    assert 'voltbook_background_errors_total{handler="charging.flush"} 1.0' in text
    assert len(failures.recent) == 1  # only the last few are kept
    assert failures.total == 3
