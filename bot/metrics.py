"""Prometheus metrics: what the worker counts as it goes, and the gauges read at scrape time.

One :class:`Metrics` per application, built in the composition root, with a registry of its
own (not prometheus-client's global one): two apps in one process — tests, the demo — never
share or collide on a metric. Counters and the histogram are incremented by the worker; the
gauges are set from a :class:`bot.services.status.Status` just before each scrape, so they are
exactly what the database says at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from bot.services.status import Status

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds from the call to the platform's answer: Telegram answers in ~0.1-1 s, a Mastodon
# status with an image can take 10 s or more (media processing), a rate-limit wait longer.
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.send_seconds = Histogram("relais_send_seconds", "Time from a send to the platform's answer.",
                                      ["platform", "channel", "outcome"], buckets=SEND_BUCKETS, registry=r)
        self.rate_limited = Counter("relais_rate_limited", "429 answers (rate limited) from a platform.",
                                    ["platform"], registry=r)
        self.retries = Counter("relais_retries", "Sends put back in the queue for a later attempt.",
                               ["kind"], registry=r)
        self.feed_errors = Counter("relais_feed_fetch_errors", "Feed polls that failed.", ["feed"], registry=r)
        self.publications = Gauge("relais_publications", "Publications by channel and state.",
                                  ["channel", "state"], registry=r)
        self.deliveries = Gauge("relais_deliveries", "Reader notifications by state.", ["state"], registry=r)
        self.queue_depth = Gauge("relais_queue_depth", "Rows waiting to be sent (pending or retry), per queue.",
                                 ["queue"], registry=r)
        self.oldest_due = Gauge("relais_oldest_due_seconds",
                                "Age of the oldest publication whose time has come and that is not sent yet.",
                                registry=r)
        self.database_up = Gauge("relais_database_up", "1 when the database answered the last scrape's SELECT 1.",
                                 registry=r)
        self.last_success = Gauge("relais_last_success_timestamp_seconds",
                                  "When a platform last accepted a publication (Unix time).", ["platform"], registry=r)

    def observe_send(self, platform: str, channel: str, seconds: float, outcome: str) -> None:
        """One call to a platform: ``outcome`` is sent, retry or dead."""
        self.send_seconds.labels(platform, channel, outcome).observe(seconds)

    def count_429(self, platform: str) -> None:
        self.rate_limited.labels(platform).inc()

    def count_retry(self, kind: str) -> None:
        """``kind``: publication or delivery (the outbox kind's name, bot.publish.outbox.Kind)."""
        self.retries.labels(kind).inc()

    def count_feed_error(self, feed: str) -> None:
        self.feed_errors.labels(feed).inc()

    def send_finished(self, platform: str, channel: str, seconds: float, *, failure: BaseException | None = None,
                      retrying: bool = False, kind: str = "publication") -> None:
        """The worker's one call per send: latency by outcome, a 429 counted, a retry counted."""
        from bot.publish.classify import is_rate_limited  # the one place errors are classified

        outcome = "sent" if failure is None else "retry" if retrying else "dead"
        self.observe_send(platform, channel, seconds, outcome)
        if failure is not None and is_rate_limited(failure):
            self.count_429(platform)
        if failure is not None and retrying:
            self.count_retry(kind)

    def set_status(self, status: Status) -> None:
        """Replace every gauge by the snapshot's figures (label sets gone from the database go too)."""
        for gauge in (self.publications, self.deliveries, self.queue_depth, self.last_success):
            gauge.clear()
        for (channel, state), count in status.publications.items():
            self.publications.labels(channel, state).set(count)
        for state, count in status.deliveries.items():
            self.deliveries.labels(state).set(count)
        for queue, depth in status.queue_depth.items():
            self.queue_depth.labels(queue).set(depth)
        self.oldest_due.set(status.oldest_due_seconds or 0.0)
        for platform, seen in status.platforms.items():
            if seen.last_success is not None:
                self.last_success.labels(platform).set(seen.last_success.timestamp())

    def exposition(self) -> bytes:
        """The Prometheus text format of everything in this registry."""
        return generate_latest(self.registry)
