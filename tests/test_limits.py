"""How many messages a tab may send: a burst, then a steady rate."""

from __future__ import annotations

import doctest

from hotreload import limits
from hotreload.limits import CLIENT_MESSAGE_BURST, CLIENT_MESSAGES_PER_SECOND, MessageRate


def test_a_burst_is_allowed_then_the_rest_refused() -> None:
    rate = MessageRate()
    allowed = [rate.allow(10.0) for _ in range(CLIENT_MESSAGE_BURST + 20)]
    assert allowed.count(True) == CLIENT_MESSAGE_BURST
    assert rate.refused == 20


def test_the_bucket_refills_at_the_steady_rate_up_to_the_burst() -> None:
    rate = MessageRate()
    for _ in range(CLIENT_MESSAGE_BURST):
        rate.allow(0.0)
    assert [rate.allow(1.0) for _ in range(CLIENT_MESSAGES_PER_SECOND + 1)].count(True) == CLIENT_MESSAGES_PER_SECOND
    assert [rate.allow(1000.0) for _ in range(CLIENT_MESSAGE_BURST + 1)].count(True) == CLIENT_MESSAGE_BURST


def test_a_well_behaved_client_is_never_refused() -> None:
    rate = MessageRate()
    # A ping every 20 s and a page report on each navigation, for an hour.
    assert all(rate.allow(t * 0.5) for t in range(7200))


def test_the_documented_examples_hold() -> None:
    assert doctest.testmod(limits).failed == 0
