"""S3 buckets: static files, the data room, backups, logs; the disaster-recovery copies in
a second region.

Every bucket is encrypted, versioned, closed to the public, TLS-only and on the design's
lifecycle. S3 moves objects down its storage-class waterfall only: a noncurrent version
that sits in Intelligent-Tiering skips the Standard-IA step and takes the next one.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

REPLICATED = ("dataroom", "backups")


def lifecycle_rules() -> list[s3.LifecycleRule]:
    """Intelligent-Tiering from day 0; noncurrent versions to Standard-IA at 30 days,
    Glacier Instant Retrieval at 60, Glacier Flexible Retrieval at 90, Deep Archive at 180,
    deleted at 365."""
    return [
        s3.LifecycleRule(
            id="tiering-and-noncurrent-versions",
            transitions=[
                s3.Transition(
                    storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                    transition_after=Duration.days(0),
                )
            ],
            noncurrent_version_transitions=[
                s3.NoncurrentVersionTransition(storage_class=storage_class, transition_after=days)
                for storage_class, days in (
                    (s3.StorageClass.INFREQUENT_ACCESS, Duration.days(30)),
                    (s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, Duration.days(60)),
                    (s3.StorageClass.GLACIER, Duration.days(90)),
                    (s3.StorageClass.DEEP_ARCHIVE, Duration.days(180)),
                )
            ],
            noncurrent_version_expiration=Duration.days(365),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]


def replica_bucket_name(purpose: str, region: str) -> str:
    return f"fabrknt-{purpose}-replica-{Aws.ACCOUNT_ID}-{region}"


def _bucket(scope: Construct, construct_id: str, **options) -> s3.Bucket:
    return s3.Bucket(
        scope,
        construct_id,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        lifecycle_rules=lifecycle_rules(),
        removal_policy=RemovalPolicy.RETAIN,
        **options,
    )


class Buckets(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, dr_region: str
    ) -> None:
        super().__init__(scope, construct_id)
        # ALB access logs and S3 server access logs need SSE-S3; CloudFront's standard logs
        # need ACLs (bucket owner preferred).
        self.logs = _bucket(
            self,
            "Logs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        )
        # Read by CloudFront through origin access control; S3-managed keys keep that
        # path free of KMS grants.
        self.static = _bucket(
            self,
            "Static",
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3/static/",
        )
        self.dataroom = _bucket(
            self,
            "Dataroom",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3/dataroom/",
        )
        self.backups = _bucket(
            self,
            "Backups",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3/backups/",
        )
        self.replication_role = iam.Role(
            self, "ReplicationRole", assumed_by=iam.ServicePrincipal("s3.amazonaws.com")
        )
        for purpose, bucket in (("dataroom", self.dataroom), ("backups", self.backups)):
            self._replicate(purpose, bucket, key=key, dr_region=dr_region)

    def _replicate(self, purpose: str, bucket: s3.Bucket, *, key: kms.IKey, dr_region: str):
        """Every object and delete marker to the replica bucket in `dr_region`, re-encrypted
        there with that region's S3 key (ReplicaStack creates the bucket)."""
        destination = f"arn:{Aws.PARTITION}:s3:::{replica_bucket_name(purpose, dr_region)}"
        role = self.replication_role
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=[bucket.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[f"{destination}/*"],
            )
        )
        key.grant_decrypt(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[f"arn:{Aws.PARTITION}:kms:{dr_region}:{Aws.ACCOUNT_ID}:key/*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{dr_region}.amazonaws.com"}},
            )
        )
        cfn = bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        cfn.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
            role=role.role_arn,
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    id=f"{purpose}-to-{dr_region}",
                    status="Enabled",
                    priority=1,
                    filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                    delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(
                        status="Enabled"
                    ),
                    source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                        sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(
                            status="Enabled"
                        )
                    ),
                    destination=s3.CfnBucket.ReplicationDestinationProperty(
                        bucket=destination,
                        encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                            replica_kms_key_id=(
                                f"arn:{Aws.PARTITION}:kms:{dr_region}:{Aws.ACCOUNT_ID}:alias/aws/s3"
                            )
                        ),
                    ),
                )
            ],
        )


class ReplicaBuckets(Construct):
    """The replication destinations, in the disaster-recovery region."""

    def __init__(self, scope: Construct, construct_id: str, *, region: str) -> None:
        super().__init__(scope, construct_id)
        self.buckets = {
            purpose: _bucket(
                self,
                purpose.capitalize(),
                bucket_name=replica_bucket_name(purpose, region),
                encryption=s3.BucketEncryption.KMS_MANAGED,
            )
            for purpose in REPLICATED
        }
