"""CloudWatch alarms built from the application's thresholds list, and the operations
dashboard.

The list is `fabrknt.ops.alarms.ALARMS` (the operations page colours its figures by the same
entries): each names the alarm, its comparison and threshold in CloudWatch's terms and
units, the statistic, the period and the evaluation periods. Here each alarm's name maps to
the CloudWatch metric that measures the same figure in the same unit; an alarm without one
fails the synth rather than go unwatched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from fabrknt.ops.alarms import Alarm

COMPARISONS = {
    "GreaterThanThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "GreaterThanOrEqualToThreshold": (
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    ),
}
# Published by the app (backup_db) into this namespace.
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
        thresholds: Sequence[Alarm],
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
        # Each alarm's figure in CloudWatch, in the unit of its threshold; `statistic` is
        # the alarm's where the figure is a plain metric.
        metrics: dict[str, Callable[[Duration, str], cloudwatch.IMetric]] = {
            "http_5xx_rate": lambda p, _: cloudwatch.MathExpression(
                expression="errors / MAX([requests, 1])",
                using_metrics={
                    "errors": alb.metrics.http_code_target(
                        elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=p, statistic="Sum"
                    ),
                    "requests": alb.metrics.request_count(period=p, statistic="Sum"),
                },
                label="5xx share",
                period=p,
            ),
            "http_latency_p99": lambda p, statistic: alb.metrics.target_response_time(
                period=p, statistic=statistic
            ),
            "queue_oldest_message_age": lambda p, _: _queue_math(
                "oldest task (s)",
                "MAX",
                list(queues.values()),
                lambda q, period: q.metric_approximate_age_of_oldest_message(
                    period=period, statistic="Maximum"
                ),
                p,
            ),
            "dead_letters": lambda p, _: _queue_math(
                "dead letters",
                "SUM",
                list(dead_letter_queues.values()),
                lambda q, period: q.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum"
                ),
                p,
            ),
            "backup_age": lambda p, statistic: cloudwatch.Metric(
                namespace=APP_NAMESPACE,
                metric_name="BackupAgeSeconds",
                period=p,
                statistic=statistic,
            ),
        }
        self.alarms = []
        for threshold in thresholds:
            if threshold.name not in metrics:
                raise ValueError(f"No CloudWatch metric for the alarm {threshold.name!r}")
            alarm = cloudwatch.Alarm(
                self,
                f"Alarm-{threshold.name}",
                alarm_description=f"{threshold.name}: {threshold.description}",
                metric=metrics[threshold.name](
                    Duration.seconds(threshold.period_seconds), threshold.statistic
                ),
                comparison_operator=COMPARISONS[threshold.comparison],
                threshold=threshold.threshold,
                evaluation_periods=threshold.evaluation_periods,
                # No backup reported is as bad as an old one; quiet traffic is not an error.
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING
                if threshold.name == "backup_age"
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
