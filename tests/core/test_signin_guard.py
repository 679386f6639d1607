"""Sign-in's guard without a server: failure counters per key, and argon2 in bounded threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher

from inbox.auth import HashingBusy, PasswordVerifier, hash_password
from inbox.config import SignInConfig
from inbox.throttle import FailureCounter, SignInGuard, address_bucket

PASSWORD = "correct horse battery"


def counter(**kwargs: Any) -> FailureCounter:
    return FailureCounter(**({"limit": 3, "window_s": 60.0, "lockout_s": 300.0} | kwargs))


def test_the_limit_th_failure_in_the_window_locks_for_the_lockout() -> None:
    c = counter()
    assert [c.failed("sato", t) for t in (0.0, 10.0)] == [False, False]
    assert c.retry_after_s("sato", 10.0) is None
    assert c.failed("sato", 20.0) is True
    assert c.retry_after_s("sato", 20.0) == 300.0
    assert c.retry_after_s("sato", 319.0) == pytest.approx(1.0)
    assert c.retry_after_s("other", 20.0) is None
    assert c.retry_after_s("sato", 320.0) is None  # the lock ends
    assert c.failed("sato", 321.0) is False  # and counting starts afresh


def test_failures_spread_wider_than_the_window_never_lock() -> None:
    c = counter()
    assert [c.failed("sato", t) for t in (0.0, 30.0, 61.0, 90.0, 122.0)] == [False] * 5
    assert c.retry_after_s("sato", 122.0) is None


def test_a_failure_that_raced_past_a_lock_neither_resets_nor_extends_it() -> None:
    c = counter()
    for t in (0.0, 1.0, 2.0):
        c.failed("sato", t)
    assert c.failed("sato", 100.0) is False  # checked before the lock began, refused after
    assert c.retry_after_s("sato", 100.0) == pytest.approx(202.0)


def test_clear_forgets_a_key() -> None:
    c = counter()
    c.failed("sato", 0.0)
    c.failed("sato", 1.0)
    c.clear("sato")
    assert c.failed("sato", 2.0) is False and len(c) == 1


def test_a_full_counter_drops_spent_keys_first_then_the_oldest() -> None:
    c = counter(max_keys=3)
    c.failed("spent", 0.0)  # its window ends at 60
    c.failed("a", 50.0)
    c.failed("b", 55.0)
    c.failed("c", 70.0)  # full: "spent" goes, a and b stay
    assert len(c) == 3 and c.failed("a", 71.0) is False and c.failed("a", 72.0) is True
    c.failed("d", 80.0)  # full, nothing spent: the oldest ("b") goes
    assert len(c) == 3
    assert c.failed("b", 81.0) is False and c.failed("b", 82.0) is False  # b starts over


def test_junk_keys_never_push_out_a_lock() -> None:
    """Guessing at a real account locks it; thousands of junk usernames must not evict that
    lock and let the guessing start again before lockout_s."""
    c = counter(max_keys=3)
    for t in (0.0, 1.0, 2.0):
        c.failed("victim", t)
    for n in range(50):
        c.failed(f"junk{n}", 3.0 + n)
    assert c.retry_after_s("victim", 60.0) == pytest.approx(242.0)
    assert len(c) <= 6  # still bounded


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    cfg = SignInConfig(max_failures_per_account=100, max_failures_per_address=3)
    guard = SignInGuard(cfg, clock=lambda: 0.0)
    for n in range(3):  # three addresses of one /64, three usernames
        guard.failed(f"user{n}", f"2001:db8:1:2::{n + 1}")
    assert guard.refusal("user9", "2001:db8:1:2:ffff::9") == ("address", 900.0)
    assert guard.refusal("user9", "2001:db8:1:3::1") is None  # the next /64 is another client
    assert address_bucket("192.0.2.7") == "192.0.2.7"
    assert address_bucket("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_bucket("unknown") == "unknown"


def test_the_guard_refuses_by_address_or_username_and_success_clears_only_the_username() -> None:
    now = [0.0]
    cfg = SignInConfig(max_failures_per_account=2, max_failures_per_address=3)
    guard = SignInGuard(cfg, clock=lambda: now[0])
    assert guard.failed("sato", "192.0.2.1") == []
    assert guard.failed("sato", "192.0.2.1") == ["account"]
    assert guard.refusal("sato", "192.0.2.9") == ("account", 900.0)
    assert guard.refusal("suzuki", "192.0.2.1") is None
    guard.succeeded("sato")  # (the handler checks no password while a lock refuses it)
    assert guard.refusal("sato", "192.0.2.9") is None
    assert guard.failed("nobody", "192.0.2.1") == ["address"]
    now[0] = 10.0
    assert guard.refusal("suzuki", "192.0.2.1") == ("address", 890.0)


class BlockingHasher(PasswordHasher):
    """Each verification waits, in its worker thread, until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Semaphore(0)
        self.go = threading.Event()
        self.threads: list[int] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.threads.append(threading.get_ident())
        self.entered.release()
        assert self.go.wait(10)
        return super().verify(hash, password)


async def test_hashing_is_bounded_and_a_caller_that_leaves_keeps_its_slot() -> None:
    hasher = BlockingHasher()
    verifier = PasswordVerifier(max_concurrent=1, wait_s=0.05, hasher=hasher)
    stored = hash_password(PASSWORD)
    first = asyncio.create_task(verifier.verify(stored, PASSWORD))
    assert await asyncio.to_thread(hasher.entered.acquire, True, 10)
    with pytest.raises(HashingBusy, match="1 password-hashing slots"):
        await verifier.verify(stored, PASSWORD)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # Its thread still hashes, so the slot is still taken.
    assert verifier.running == 1
    with pytest.raises(HashingBusy):
        await verifier.verify(stored, PASSWORD)
    hasher.go.set()


async def test_hashing_runs_in_worker_threads_once_per_check_even_without_a_user() -> None:
    hasher = BlockingHasher()
    hasher.go.set()
    verifier = PasswordVerifier(max_concurrent=2, wait_s=30, hasher=hasher)
    stored = hash_password(PASSWORD)
    checks = [(stored, PASSWORD), (stored, "wrong password"), (None, PASSWORD), (None, "x")]
    results = await asyncio.gather(*(verifier.verify(h, p) for h, p in checks))
    assert results == [True, False, False, False]
    assert len(hasher.threads) == 4  # the dummy hash is verified for a missing user
    assert threading.get_ident() not in hasher.threads
    assert verifier.running == 0
