"""CloudWatch alarms built from a list of thresholds, and the operations dashboard.

The thresholds list is the application's (fabrknt/ops/alarms.py, issue 13): each entry has
a name, a metric, a comparison, a threshold and a period in seconds. Until that module
lands, PROVISIONAL_THRESHOLDS below stands in for it with the same shape; `metric` names
one of METRICS, and an unknown name fails the synth rather than go unwatched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class Threshold(Protocol):
    """An entry of the thresholds list, read-only (a frozen dataclass fits)."""

    @property
    def name(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def comparison(self) -> str: ...  # ">", ">=", "<", "<="
    @property
    def threshold(self) -> float: ...
    @property
    def period(self) -> int: ...  # seconds


@dataclass(frozen=True)
class ProvisionalThreshold:
    name: str
    metric: str
    comparison: str
    threshold: float
    period: int


# Replaced by fabrknt/ops/alarms.py's list at merge (the operational design's figures).
PROVISIONAL_THRESHOLDS: tuple[Threshold, ...] = (
    ProvisionalThreshold("5xx rate", "http_5xx_rate_percent", ">", 0.1, 300),
    ProvisionalThreshold("p99 latency", "http_p99_latency_ms", ">", 100, 300),
    ProvisionalThreshold("oldest queued task", "queue_oldest_message_age_seconds", ">", 300, 300),
    ProvisionalThreshold("dead letters", "dead_letters", ">", 0, 300),
    ProvisionalThreshold("backup age", "backup_age_seconds", ">", 3600, 300),
)

COMPARISONS = {
    ">": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ">=": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "<": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    "<=": cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
}
# Published by the app (backup_db, issue 13) into this namespace.
APP_NAMESPACE = "Fabrknt"


def _queue_math(
    label: str, function: str, queues: Sequence[sqs.IQueue], metric: Callable, period: Duration
) -> cloudwatch.MathExpression:
    using = {f"q{i}": metric(queue, period) for i, queue in enumerate(queues)}
    return cloudwatch.MathExpression(
        expression=f"{function}([{','.join(using)}])",
        using_metrics=using,
        label=label,
        period=period,
    )


def queue_depth(queues: Sequence[sqs.IQueue]) -> cloudwatch.MathExpression:
    """Messages waiting across the Celery queues: what the workers scale on."""
    return _queue_math(
        "queued tasks",
        "SUM",
        queues,
        lambda q, p: q.metric_approximate_number_of_messages_visible(period=p, statistic="Maximum"),
        Duration.minutes(1),
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        thresholds: Sequence[Threshold],
        alb: elbv2.ApplicationLoadBalancer,
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        alarm_email: str,
        dashboard_widgets: Sequence[cloudwatch.IWidget],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", display_name="Fabrknt alarms")
        sns.Subscription(
            self,
            "AlarmEmail",
            topic=self.topic,
            protocol=sns.SubscriptionProtocol.EMAIL,
            endpoint=alarm_email,
        )
        metrics: dict[str, Callable[[Duration], cloudwatch.IMetric]] = {
            "http_5xx_rate_percent": lambda p: cloudwatch.MathExpression(
                expression="100 * errors / MAX([requests, 1])",
                using_metrics={
                    "errors": alb.metrics.http_code_target(
                        elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=p, statistic="Sum"
                    ),
                    "requests": alb.metrics.request_count(period=p, statistic="Sum"),
                },
                label="5xx %",
                period=p,
            ),
            "http_p99_latency_ms": lambda p: cloudwatch.MathExpression(
                expression="1000 * latency",
                using_metrics={
                    "latency": alb.metrics.target_response_time(period=p, statistic="p99")
                },
                label="p99 ms",
                period=p,
            ),
            "queue_oldest_message_age_seconds": lambda p: _queue_math(
                "oldest task (s)",
                "MAX",
                list(queues.values()),
                lambda q, period: q.metric_approximate_age_of_oldest_message(
                    period=period, statistic="Maximum"
                ),
                p,
            ),
            "dead_letters": lambda p: _queue_math(
                "dead letters",
                "SUM",
                list(dead_letter_queues.values()),
                lambda q, period: q.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum"
                ),
                p,
            ),
            "backup_age_seconds": lambda p: cloudwatch.Metric(
                namespace=APP_NAMESPACE,
                metric_name="BackupAgeSeconds",
                period=p,
                statistic="Maximum",
            ),
        }
        self.alarms = []
        for threshold in thresholds:
            if threshold.metric not in metrics:
                raise ValueError(f"No CloudWatch metric for threshold metric {threshold.metric!r}")
            alarm = cloudwatch.Alarm(
                self,
                f"Alarm-{threshold.metric}",
                alarm_description=f"{threshold.name}: {threshold.metric} "
                f"{threshold.comparison} {threshold.threshold}",
                metric=metrics[threshold.metric](Duration.seconds(threshold.period)),
                comparison_operator=COMPARISONS[threshold.comparison],
                threshold=threshold.threshold,
                evaluation_periods=1,
                # No backup reported is as bad as an old one; quiet traffic is not an error.
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING
                if threshold.metric == "backup_age_seconds"
                else cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms.append(alarm)
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name="Fabrknt-Operations"
        )
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(alarms=self.alarms, width=24))
        for widget in dashboard_widgets:
            self.dashboard.add_widgets(widget)
