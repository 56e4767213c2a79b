"""The data layer: a KMS key, PostgreSQL (Multi-AZ, RDS Proxy, a read replica, 7 days of
backups with point-in-time recovery, rotated credentials), Redis with a replica, and one
SQS queue with a dead-letter queue per Celery queue."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from fabrknt_aws.app_facts import AppFacts
from fabrknt_aws.sizes import Size

DATABASE_NAME = "fabrknt"
QUEUE_PREFIX = "fabrknt-"


class Data(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, size: Size, facts: AppFacts
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "DataKey",
            enable_key_rotation=True,
            alias="alias/fabrknt-data",
            removal_policy=RemovalPolicy.RETAIN,
        )
        isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.database = rds.DatabaseInstance(
            self,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6),
            instance_type=ec2.InstanceType(size.db_instance),
            vpc=vpc,
            vpc_subnets=isolated,
            multi_az=True,
            storage_encrypted=True,
            storage_encryption_key=self.key,
            allocated_storage=size.db_storage_gb,
            max_allocated_storage=size.db_storage_gb * 4,
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret("fabrknt", encryption_key=self.key),
            # Automated backups every 5 minutes of WAL: point-in-time recovery over 7 days.
            backup_retention=Duration.days(7),
            preferred_backup_window="03:00-03:30",
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            cloudwatch_logs_exports=["postgresql"],
            enable_performance_insights=True,
            performance_insight_encryption_key=self.key,
            monitoring_interval=Duration.seconds(60),
            auto_minor_version_upgrade=True,
        )
        assert self.database.secret is not None
        self.database_secret = self.database.secret
        # Secrets Manager's hosted rotation for PostgreSQL; containers read the password
        # when they start (deploy/entrypoint.py), and a rotation redeploys them (stacks.py).
        self.database.add_rotation_single_user(automatically_after=Duration.days(30))
        self.proxy = self.database.add_proxy(
            "Proxy",
            secrets=[self.database_secret],
            vpc=vpc,
            vpc_subnets=isolated,
            require_tls=True,
            idle_client_timeout=Duration.minutes(30),
        )
        self.replica = rds.DatabaseInstanceReadReplica(
            self,
            "ReadReplica",
            source_database_instance=self.database,
            instance_type=ec2.InstanceType(size.db_instance),
            vpc=vpc,
            vpc_subnets=isolated,
            # Encrypted with the source's key (a replica inherits it).
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.redis_security_group = ec2.SecurityGroup(
            self, "RedisSecurityGroup", vpc=vpc, description="Redis: from the services only"
        )
        self.redis_token = secretsmanager.Secret(
            self,
            "RedisAuthToken",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=64
            ),
        )
        subnets = elasticache.CfnSubnetGroup(
            self,
            "RedisSubnets",
            description="Fabrknt Redis",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        self.redis = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="Fabrknt cache, rate limits, click stream, channels",
            engine="redis",
            engine_version="7.1",
            cache_node_type=size.cache_node,
            num_cache_clusters=2,  # a primary and a replica, in different AZs
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled=True,
            kms_key_id=self.key.key_id,
            transit_encryption_enabled=True,
            auth_token=self.redis_token.secret_value.unsafe_unwrap(),
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.redis_security_group.security_group_id],
            snapshot_retention_limit=7,
            port=6379,
        )

        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for name in facts.queue_names:
            dead = sqs.Queue(
                self,
                f"DeadLetters-{name}",
                queue_name=f"{QUEUE_PREFIX}{name}-dead-letters",
                retention_period=Duration.days(14),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            self.dead_letter_queues[name] = dead
            self.queues[name] = sqs.Queue(
                self,
                f"Queue-{name}",
                queue_name=f"{QUEUE_PREFIX}{name}",
                visibility_timeout=Duration.seconds(facts.visibility_timeout_seconds),
                retention_period=Duration.days(14),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=sqs.DeadLetterQueue(
                    max_receive_count=facts.max_receive_count, queue=dead
                ),
            )
