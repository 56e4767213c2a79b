"""The same HTTP request sent many times at once, as a provider retrying a webhook does:
real requests from threads released together, against a live server."""

from __future__ import annotations

import json
import threading

import requests

DELIVERIES = 20


def post_at_once(
    url: str, *, body: bytes, headers: dict[str, str], times: int = DELIVERIES
) -> list[tuple[int, dict]]:
    """POSTs `body` `times` times concurrently, each from its own thread and connection;
    the (status, JSON body) of each answer, sorted."""
    start = threading.Barrier(times)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def deliver() -> None:
        start.wait(timeout=30)
        try:
            response = requests.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=60,
            )
        except requests.RequestException as error:
            with lock:
                failures.append(error)
            return
        with lock:
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=deliver) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    return sorted(answers, key=lambda answer: (answer[0], json.dumps(answer[1])))
