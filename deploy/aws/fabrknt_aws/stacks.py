"""The two stacks: the platform (in us-east-1, where CloudFront's certificate, its web ACL
and the DNSSEC key must live, so one stack holds them all) and the disaster-recovery
copies of the data room and backups in a second region."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from fabrknt.ops.alarms import Alarm
from fabrknt_aws.app_facts import GENERATED_SECRETS, OPERATOR_SECRETS, UNSET, AppFacts
from fabrknt_aws.data import DATABASE_NAME, QUEUE_PREFIX, Data
from fabrknt_aws.dns import Dns
from fabrknt_aws.edge import Edge
from fabrknt_aws.monitoring import APP_NAMESPACE, Monitoring, queue_depth
from fabrknt_aws.services import LoadBalancer, Services
from fabrknt_aws.sizes import SIZES
from fabrknt_aws.storage import Buckets, ReplicaBuckets
from fabrknt_aws.waf import EdgeWebAcl


class FabrkntStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        facts: AppFacts,
        thresholds: Sequence[Alarm],
        size: str,
        dr_region: str,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        spec = SIZES[size]

        def parameter(name: str, description: str, **options) -> cdk.CfnParameter:
            return cdk.CfnParameter(self, name, description=description, **options)

        zone_name = parameter("ZoneName", "The Route 53 public hosted zone, e.g. example.com")
        zone_id = parameter("HostedZoneId", "That zone's id")
        domain = parameter("AppDomain", "The site's name, e.g. suite.example.com").value_as_string
        origin_domain = parameter(
            "OriginDomain", "The name CloudFront reaches the load balancers by (weighted)"
        ).value_as_string
        websocket_domain = parameter(
            "WebSocketDomain", "The WebSocket endpoint's name (latency records)"
        ).value_as_string
        image_tag = parameter("ImageTag", "The image tag the services run").value_as_string
        canary_tag = parameter(
            "CanaryImageTag", "The canary web service's image tag", default="canary"
        ).value_as_string
        canary_tasks = parameter(
            "CanaryTasks",
            "Canary web tasks (0: no canary, all traffic stable)",
            type="Number",
            default=0,
            min_value=0,
        ).value_as_number
        stable_weight = parameter(
            "StableWeight", "Weight of the stable origin", type="Number", default=90
        ).value_as_number
        canary_weight = parameter(
            "CanaryWeight", "Weight of the canary origin", type="Number", default=10
        ).value_as_number
        blocked_countries = parameter(
            "BlockedCountries",
            "ISO country codes the WAF refuses",
            type="CommaDelimitedList",
            default="CU,IR,KP,SY",
        ).value_as_list
        cloudfront_ranges = parameter(
            "CloudFrontOriginCidrs",
            "CloudFront's origin-facing ranges, for TRUSTED_PROXIES (AWS ip-ranges.json)",
        ).value_as_string
        alarm_email = parameter("AlarmEmail", "Where alarms are sent").value_as_string

        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=spec.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ],
        )
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        data = Data(self, "Data", vpc=vpc, size=spec, facts=facts)
        buckets = Buckets(self, "Buckets", key=data.key, dr_region=dr_region)

        trail = cloudtrail.Trail(
            self,
            "AuditTrail",
            bucket=buckets.logs,
            s3_key_prefix="cloudtrail",
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_logs_retention=logs.RetentionDays.ONE_YEAR,
        )
        # Who read or wrote which data-room document or backup.
        trail.add_s3_event_selector(
            [
                cloudtrail.S3EventSelector(bucket=buckets.dataroom),
                cloudtrail.S3EventSelector(bucket=buckets.backups),
            ],
            read_write_type=cloudtrail.ReadWriteType.ALL,
        )

        zone = route53.HostedZone.from_hosted_zone_attributes(
            self,
            "Zone",
            hosted_zone_id=zone_id.value_as_string,
            zone_name=zone_name.value_as_string,
        )
        certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=domain,
            subject_alternative_names=[origin_domain, websocket_domain],
            validation=acm.CertificateValidation.from_dns(zone),
        )
        edge_acl = EdgeWebAcl(
            self,
            "EdgeWaf",
            waf_scope="CLOUDFRONT",
            paths=facts.edge_paths,
            blocked_countries=blocked_countries,
        )
        regional_acl = EdgeWebAcl(
            self,
            "RegionalWaf",
            waf_scope="REGIONAL",
            paths=facts.edge_paths,
            blocked_countries=blocked_countries,
        )
        balancer = LoadBalancer(
            self,
            "Balancer",
            vpc=vpc,
            certificate=certificate,
            logs_bucket=buckets.logs,
            websockets=True,
        )
        canary_balancer = LoadBalancer(
            self,
            "CanaryBalancer",
            vpc=vpc,
            certificate=certificate,
            logs_bucket=buckets.logs,
            websockets=False,
        )
        for name, lb in (("Balancer", balancer), ("CanaryBalancer", canary_balancer)):
            wafv2.CfnWebACLAssociation(
                self,
                f"{name}Waf",
                resource_arn=lb.alb.load_balancer_arn,
                web_acl_arn=regional_acl.web_acl.attr_arn,
            )
        edge = Edge(
            self,
            "Edge",
            domain_name=domain,
            origin_domain=origin_domain,
            certificate=certificate,
            static_bucket=buckets.static,
            logs_bucket=buckets.logs,
            web_acl_arn=edge_acl.web_acl.attr_arn,
        )

        app_secrets = {
            name: secretsmanager.Secret(
                self,
                f"Secret-{name}",
                secret_name=f"fabrknt/{name}",
                encryption_key=data.key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=64
                )
                if name in GENERATED_SECRETS
                else None,
                secret_string_value=None
                if name in GENERATED_SECRETS
                else cdk.SecretValue.unsafe_plain_text(UNSET),
            )
            for name in (*GENERATED_SECRETS, *OPERATOR_SECRETS)
        }
        container_secrets = {
            **{name: ecs.Secret.from_secrets_manager(s) for name, s in app_secrets.items()},
            "DATABASE_USER": ecs.Secret.from_secrets_manager(data.database_secret, "username"),
            "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(data.database_secret, "password"),
            "REDIS_AUTH_TOKEN": ecs.Secret.from_secrets_manager(data.redis_token),
        }
        hosts = cdk.Fn.join(
            ",",
            [domain, origin_domain, websocket_domain, edge.distribution.distribution_domain_name],
        )
        environment = {
            "DJANGO_ENV": "production",
            "ALLOWED_HOSTS": hosts,
            "CSRF_TRUSTED_ORIGINS": f"https://{domain}",
            "SIWE_ALLOWED_DOMAINS": domain,
            "PUBLIC_BASE_URL": f"https://{domain}",
            # The load balancers' subnets, and CloudFront's origin-facing ranges.
            "TRUSTED_PROXIES": cdk.Fn.join(",", [vpc.vpc_cidr_block, cloudfront_ranges]),
            "FORWARDED_ALLOW_IPS": "*",  # only the load balancers reach the tasks
            "DATABASE_HOST": data.proxy.endpoint,
            "DATABASE_PORT": "5432",
            "DATABASE_NAME": DATABASE_NAME,
            "DATABASE_SSLMODE": "require",
            "DATABASE_REPLICA_HOST": data.replica.db_instance_endpoint_address,
            "REDIS_HOST": data.redis.attr_primary_end_point_address,
            "REDIS_PORT": data.redis.attr_primary_end_point_port,
            "CELERY_BROKER_URL": "sqs://",
            "CELERY_SQS_QUEUE_PREFIX": QUEUE_PREFIX,
            "AWS_S3_REGION_NAME": self.region,
            "AWS_STORAGE_BUCKET_NAME": buckets.dataroom.bucket_name,
            "DATAROOM_BUCKET": buckets.dataroom.bucket_name,
            "BACKUP_BUCKET": buckets.backups.bucket_name,
            # The app's own figures for the alarms (the backup age), in their namespace.
            "CLOUDWATCH_METRICS_NAMESPACE": APP_NAMESPACE,
        }
        services = Services(
            self,
            "Services",
            vpc=vpc,
            size=spec,
            image_tag=image_tag,
            canary_image_tag=canary_tag,
            canary_tasks=canary_tasks,
            environment=environment,
            secrets=container_secrets,
            queue_names=facts.queue_names,
            queue_depth=queue_depth(list(data.queues.values())),
            balancer=balancer,
            canary_balancer=canary_balancer,
        )
        for database in (data.database, data.proxy, data.replica):
            database.connections.allow_from(services.security_group, ec2.Port.tcp(5432))
        data.redis_security_group.add_ingress_rule(services.security_group, ec2.Port.tcp(6379))
        for task in (
            services.web.task_definition,
            services.asgi.task_definition,
            services.worker.task_definition,
            services.beat.task_definition,
            services.canary.task_definition,
            services.migrate_task,
        ):
            for queue in (*data.queues.values(), *data.dead_letter_queues.values()):
                queue.grant_consume_messages(task.task_role)
                queue.grant_send_messages(task.task_role)
            for queue in data.queues.values():
                queue.grant_purge(task.task_role)  # the operators' queue purge (issue 13)
            # Retrying dead letters is SQS's own redrive (a message move task).
            task.task_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[
                        "sqs:StartMessageMoveTask",
                        "sqs:ListMessageMoveTasks",
                        "sqs:CancelMessageMoveTask",
                    ],
                    resources=[q.queue_arn for q in data.dead_letter_queues.values()],
                )
            )
            buckets.dataroom.grant_read_write(task.task_role)
            buckets.backups.grant_read_write(task.task_role)
            # PutMetricData has no resource ARN; the condition keeps it to our namespace.
            task.task_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": APP_NAMESPACE}},
                )
            )

        # A rotated database password reaches the tasks when they start (the entrypoint reads
        # it): once Secrets Manager has rotated it, every service is redeployed.
        rotated = events.Rule(
            self,
            "DatabasePasswordRotated",
            event_pattern=events.EventPattern(
                source=["aws.secretsmanager"],
                detail_type=["AWS Service Event via CloudTrail"],
                detail={
                    "eventName": ["RotationSucceeded"],
                    "additionalEventData": {"SecretId": [data.database_secret.secret_arn]},
                },
            ),
        )
        for service in (
            services.web,
            services.asgi,
            services.worker,
            services.beat,
            services.canary,
        ):
            rotated.add_target(
                events_targets.AwsApi(
                    service="ECS",
                    action="updateService",
                    parameters={
                        "cluster": services.cluster.cluster_name,
                        "service": service.service_name,
                        "forceNewDeployment": True,
                    },
                    policy_statement=iam.PolicyStatement(
                        actions=["ecs:UpdateService"], resources=[service.service_arn]
                    ),
                )
            )

        Dns(
            self,
            "Dns",
            zone=zone,
            region=self.region,
            domain_name=domain,
            origin_domain=origin_domain,
            websocket_domain=websocket_domain,
            distribution=edge.distribution,
            alb=balancer.alb,
            canary_alb=canary_balancer.alb,
            stable_weight=stable_weight,
            canary_weight=canary_weight,
        )
        Monitoring(
            self,
            "Monitoring",
            thresholds=thresholds,
            alb=balancer.alb,
            queues=data.queues,
            dead_letter_queues=data.dead_letter_queues,
            alarm_email=alarm_email,
            dashboard_widgets=_dashboard_widgets(edge, balancer, services, data),
        )


def _dashboard_widgets(
    edge: Edge, balancer: LoadBalancer, services: Services, data: Data
) -> list[cloudwatch.IWidget]:
    minute = Duration.minutes(1)
    cdn = {"DistributionId": edge.distribution.distribution_id, "Region": "Global"}
    alb = balancer.alb.metrics
    database = data.database
    return [
        cloudwatch.GraphWidget(
            title="CloudFront",
            left=[
                cloudwatch.Metric(
                    namespace="AWS/CloudFront",
                    metric_name="Requests",
                    dimensions_map=cdn,
                    statistic="Sum",
                    region="us-east-1",
                ),
            ],
            right=[
                cloudwatch.Metric(
                    namespace="AWS/CloudFront",
                    metric_name="5xxErrorRate",
                    dimensions_map=cdn,
                    statistic="Average",
                    region="us-east-1",
                ),
            ],
            width=12,
        ),
        cloudwatch.GraphWidget(
            title="Load balancer",
            left=[
                alb.request_count(period=minute),
                alb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=minute),
            ],
            right=[
                alb.target_response_time(period=minute, statistic="p50"),
                alb.target_response_time(period=minute, statistic="p99"),
            ],
            width=12,
        ),
        cloudwatch.GraphWidget(
            title="ECS CPU %",
            left=[
                s.metric_cpu_utilization(period=minute)
                for s in (services.web, services.asgi, services.worker, services.beat)
            ],
            width=12,
        ),
        cloudwatch.GraphWidget(
            title="PostgreSQL",
            left=[
                database.metric_cpu_utilization(period=minute),
                database.metric_database_connections(period=minute),
            ],
            right=[data.replica.metric("ReplicaLag", period=minute, statistic="Maximum")],
            width=12,
        ),
        cloudwatch.GraphWidget(
            title="Queues",
            left=[
                q.metric_approximate_number_of_messages_visible(period=minute)
                for q in data.queues.values()
            ],
            right=[
                q.metric_approximate_number_of_messages_visible(period=minute)
                for q in data.dead_letter_queues.values()
            ],
            width=12,
        ),
        cloudwatch.GraphWidget(
            title="WAF",
            left=[
                cloudwatch.Metric(
                    namespace="AWS/WAFV2",
                    metric_name=name,
                    statistic="Sum",
                    region="us-east-1",
                    dimensions_map={"WebACL": "fabrknt-cloudfront", "Rule": "ALL"},
                )
                for name in ("AllowedRequests", "BlockedRequests")
            ],
            width=12,
        ),
    ]


class ReplicaStack(cdk.Stack):
    """The disaster-recovery region's copies (deployed before the platform stack)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.replicas = ReplicaBuckets(self, "Replicas", region=self.region)


def build_app(
    app: cdk.App,
    *,
    facts: AppFacts,
    thresholds: Sequence[Alarm],
    size: str = "small",
    region: str = "us-east-1",
    dr_region: str = "us-west-2",
) -> tuple[FabrkntStack, ReplicaStack]:
    replica = ReplicaStack(
        app,
        "FabrkntReplica",
        env=cdk.Environment(region=dr_region),
        description="Fabrknt Suite: disaster-recovery copies of the data room and backups",
    )
    main = FabrkntStack(
        app,
        "Fabrknt",
        env=cdk.Environment(region=region),
        description="Fabrknt Suite: network, data, services, edge, DNS, monitoring",
        facts=facts,
        thresholds=thresholds,
        size=size,
        dr_region=dr_region,
    )
    main.add_stack_dependency(replica)
    return main, replica
