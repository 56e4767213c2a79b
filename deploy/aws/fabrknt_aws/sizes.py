"""Two sizes of the deployment (cdk.json's `size` context); deploy/README.md prices both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    cpu: int  # Fargate CPU units (1024 = 1 vCPU)
    memory: int  # MiB
    min_tasks: int
    max_tasks: int


@dataclass(frozen=True)
class Size:
    db_instance: str
    db_storage_gb: int
    cache_node: str
    nat_gateways: int
    web: Service
    asgi: Service
    worker: Service


SIZES = {
    # A launch: the seeds' "small scale" (t-class database and cache, two web tasks).
    "small": Size(
        db_instance="t4g.small",
        db_storage_gb=50,
        cache_node="cache.t4g.micro",
        nat_gateways=1,
        web=Service(cpu=512, memory=1024, min_tasks=2, max_tasks=6),
        asgi=Service(cpu=256, memory=512, min_tasks=1, max_tasks=3),
        worker=Service(cpu=512, memory=1024, min_tasks=1, max_tasks=4),
    ),
    # The design's 1,000 concurrent users with headroom: one NAT gateway per AZ.
    "medium": Size(
        db_instance="m7g.large",
        db_storage_gb=200,
        cache_node="cache.m7g.large",
        nat_gateways=2,
        web=Service(cpu=1024, memory=2048, min_tasks=4, max_tasks=16),
        asgi=Service(cpu=512, memory=1024, min_tasks=2, max_tasks=6),
        worker=Service(cpu=1024, memory=2048, min_tasks=2, max_tasks=10),
    ),
}
