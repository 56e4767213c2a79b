"""ECS Fargate: one image, four services. Web (gunicorn) and the ASGI server (uvicorn, for
/ws/*) behind an ALB whose health check is /readyz (503 only without the database);
workers scaled on the depth of their SQS queues; exactly one beat. A canary web service
behind its own ALB takes the weighted DNS share (dns.py) when it runs."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fabrknt_aws.sizes import Service, Size

WEB_PORT = 8000
ASGI_PORT = 8001
WEB_COMMAND = ["gunicorn", "-c", "deploy/gunicorn.conf.py", "fabrknt.wsgi"]
# Inside the task, behind the load balancer: uvicorn with /ws/live's options
# (fabrknt/live/serve.py; README, "Live updates").
ASGI_COMMAND = [
    *("python", "-m", "fabrknt.live.serve"),
    *("--host", "0.0.0.0", "--port", str(ASGI_PORT)),  # noqa: S104
]
BEAT_COMMAND = ["celery", "-A", "fabrknt", "beat", "--loglevel=INFO"]
MIGRATE_COMMAND = ["python", "manage.py", "migrate", "--noinput"]


def worker_command(queue_names: tuple[str, ...]) -> list[str]:
    return ["celery", "-A", "fabrknt", "worker", "--loglevel=INFO", "-Q", ",".join(queue_names)]


class LoadBalancer(Construct):
    """An internet-facing ALB: HTTPS only (HTTP redirects), /ws/* to the ASGI target group
    when there is one, the rest to web."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        certificate: acm.ICertificate,
        logs_bucket: s3.IBucket,
        websockets: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=True,
            drop_invalid_header_fields=True,
            # WebSocket connections idle between events; HTTP (sync gunicorn workers)
            # closes after each response anyway.
            idle_timeout=Duration.seconds(300),
        )
        self.alb.log_access_logs(logs_bucket, prefix=f"alb/{construct_id.lower()}")
        self.alb.add_redirect(source_port=80, target_port=443)
        self.listener = self.alb.add_listener(
            "Https",
            port=443,
            certificates=[certificate],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_action=elbv2.ListenerAction.fixed_response(404),
        )
        self.web = self._target_group("Web", vpc, WEB_PORT)
        self.listener.add_target_groups("WebDefault", target_groups=[self.web])
        self.asgi: elbv2.ApplicationTargetGroup | None = None
        if websockets:
            self.asgi = self._target_group("Asgi", vpc, ASGI_PORT)
            self.listener.add_target_groups(
                "WebSockets",
                priority=10,
                conditions=[elbv2.ListenerCondition.path_patterns(["/ws/*"])],
                target_groups=[self.asgi],
            )

    def _target_group(self, name: str, vpc: ec2.IVpc, port: int) -> elbv2.ApplicationTargetGroup:
        return elbv2.ApplicationTargetGroup(
            self,
            name,
            vpc=vpc,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path="/readyz",
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )


class Services(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        size: Size,
        image_tag: str,
        canary_image_tag: str,
        canary_tasks: int | float,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
        queue_names: tuple[str, ...],
        queue_depth: cloudwatch.IMetric,
        balancer: LoadBalancer,
        canary_balancer: LoadBalancer,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.repository = ecr.Repository(
            self,
            "Images",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=100)],
        )
        self._environment = dict(environment)
        self._secrets = dict(secrets)
        self.security_group = ec2.SecurityGroup(
            self, "ServicesSecurityGroup", vpc=vpc, description="Fabrknt tasks"
        )
        for lb in (balancer, canary_balancer):
            self.security_group.connections.allow_from(lb.alb, ec2.Port.tcp(WEB_PORT))
            self.security_group.connections.allow_from(lb.alb, ec2.Port.tcp(ASGI_PORT))
        image = ecs.ContainerImage.from_ecr_repository(self.repository, tag=image_tag)
        canary_image = ecs.ContainerImage.from_ecr_repository(self.repository, tag=canary_image_tag)

        self.web = self._service("Web", image, WEB_COMMAND, size.web, port=WEB_PORT)
        self.web.attach_to_application_target_group(balancer.web)
        web_scaling = self.web.auto_scale_task_count(
            min_capacity=size.web.min_tasks, max_capacity=size.web.max_tasks
        )
        web_scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        web_scaling.scale_on_request_count(
            "Requests", requests_per_target=1000, target_group=balancer.web
        )

        self.asgi = self._service("Asgi", image, ASGI_COMMAND, size.asgi, port=ASGI_PORT)
        assert balancer.asgi is not None
        self.asgi.attach_to_application_target_group(balancer.asgi)
        self.asgi.auto_scale_task_count(
            min_capacity=size.asgi.min_tasks, max_capacity=size.asgi.max_tasks
        ).scale_on_cpu_utilization("Cpu", target_utilization_percent=60)

        self.worker = self._service("Worker", image, worker_command(queue_names), size.worker)
        worker_scaling = self.worker.auto_scale_task_count(
            min_capacity=size.worker.min_tasks, max_capacity=size.worker.max_tasks
        )
        worker_scaling.scale_on_metric(
            "QueueDepth",
            metric=queue_depth,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            scaling_steps=[
                appscaling.ScalingInterval(upper=10, change=-1),
                appscaling.ScalingInterval(lower=100, change=1),
                appscaling.ScalingInterval(lower=1000, change=3),
            ],
            cooldown=Duration.minutes(2),
        )

        # One beat, never two: a deployment stops the old task before it starts the new.
        self.beat = self._service(
            "Beat",
            image,
            BEAT_COMMAND,
            Service(cpu=256, memory=512, min_tasks=1, max_tasks=1),
            min_healthy_percent=0,
            max_healthy_percent=100,
        )

        self.canary = self._service(
            "CanaryWeb", canary_image, WEB_COMMAND, size.web, port=WEB_PORT, desired=canary_tasks
        )
        self.canary.attach_to_application_target_group(canary_balancer.web)

        # On the release's (canary) image: a release migrates before any service runs its
        # code, and the migrations keep the running code working (deploy/README.md).
        self.migrate_task = self._task_definition(
            "Migrate", canary_image, MIGRATE_COMMAND, size.worker
        )

    def _task_definition(
        self,
        name: str,
        image: ecs.ContainerImage,
        command: list[str],
        spec: Service,
        port: int | None = None,
    ) -> ecs.FargateTaskDefinition:
        task = ecs.FargateTaskDefinition(
            self,
            f"{name}Task",
            cpu=spec.cpu,
            memory_limit_mib=spec.memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task.add_container(
            name,
            image=image,
            command=command,
            environment=self._environment,
            secrets=self._secrets,
            port_mappings=[ecs.PortMapping(container_port=port)] if port else None,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=name.lower(),
                log_group=logs.LogGroup(
                    self, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH
                ),
            ),
            readonly_root_filesystem=False,
            user="10001:10001",
        )
        return task

    def _service(
        self,
        name: str,
        image: ecs.ContainerImage,
        command: list[str],
        spec: Service,
        *,
        port: int | None = None,
        desired: int | float | None = None,
        min_healthy_percent: int = 100,
        max_healthy_percent: int = 200,
    ) -> ecs.FargateService:
        return ecs.FargateService(
            self,
            name,
            cluster=self.cluster,
            task_definition=self._task_definition(name, image, command, spec, port),
            desired_count=spec.min_tasks if desired is None else desired,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=min_healthy_percent,
            max_healthy_percent=max_healthy_percent,
            enable_execute_command=True,
            health_check_grace_period=Duration.seconds(60) if port else None,
        )
