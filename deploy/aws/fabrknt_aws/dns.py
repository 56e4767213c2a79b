"""Route 53: the site fails over from CloudFront (primary) to the ALB (secondary, behind
the regional web ACL) on HTTPS health checks every 30 s; the origin name CloudFront uses
splits 90/10 between the stable and the canary ALB (a record whose ALB has no healthy
target drops out, so with no canary running all traffic is stable's); the WebSocket name
is a latency record per region; the zone is signed (DNSSEC) with a KMS key."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

HEALTH_CHECK_INTERVAL = Duration.seconds(30)
# Every CloudFront distribution's alias zone.
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"


class Dns(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        zone: route53.IHostedZone,
        region: str,
        domain_name: str,
        origin_domain: str,
        websocket_domain: str,
        distribution: cloudfront.IDistribution,
        alb: elbv2.IApplicationLoadBalancer,
        canary_alb: elbv2.IApplicationLoadBalancer,
        stable_weight: int | float,
        canary_weight: int | float,
    ) -> None:
        super().__init__(scope, construct_id)

        def https_check(name: str, fqdn: str) -> route53.HealthCheck:
            return route53.HealthCheck(
                self,
                name,
                type=route53.HealthCheckType.HTTPS,
                fqdn=fqdn,
                port=443,
                resource_path="/readyz",
                request_interval=HEALTH_CHECK_INTERVAL,
                failure_threshold=3,
                enable_sni=True,
                measure_latency=True,
            )

        cdn_check = https_check("CdnHealth", distribution.distribution_domain_name)
        alb_check = https_check("OriginHealth", origin_domain)
        websocket_check = https_check("WebSocketHealth", websocket_domain)
        direct = route53.RecordTarget.from_alias(targets.LoadBalancerTarget(alb))
        canary = route53.RecordTarget.from_alias(targets.LoadBalancerTarget(canary_alb))

        # Written as CloudFormation records: CDK's failover records insist on evaluating
        # the alias target's health, which a CloudFront alias cannot do; the health checks
        # decide instead.
        for name, role, identifier, alias_zone, alias_name, check in (
            (
                "SitePrimary",
                "PRIMARY",
                "cloudfront",
                CLOUDFRONT_ZONE_ID,
                distribution.distribution_domain_name,
                cdn_check,
            ),
            (
                "SiteSecondary",
                "SECONDARY",
                "alb",
                alb.load_balancer_canonical_hosted_zone_id,
                f"dualstack.{alb.load_balancer_dns_name}",
                alb_check,
            ),
        ):
            route53.CfnRecordSet(
                self,
                name,
                hosted_zone_id=zone.hosted_zone_id,
                name=domain_name,
                type="A",
                failover=role,
                set_identifier=identifier,
                health_check_id=check.health_check_id,
                alias_target=route53.CfnRecordSet.AliasTargetProperty(
                    dns_name=alias_name, hosted_zone_id=alias_zone, evaluate_target_health=False
                ),
            )
        route53.ARecord(
            self,
            "OriginStable",
            zone=zone,
            record_name=origin_domain,
            target=direct,
            weight=stable_weight,
            set_identifier="stable",
        )
        route53.ARecord(
            self,
            "OriginCanary",
            zone=zone,
            record_name=origin_domain,
            target=canary,
            weight=canary_weight,
            set_identifier="canary",
        )
        route53.ARecord(
            self,
            "WebSocketLatency",
            zone=zone,
            record_name=websocket_domain,
            target=direct,
            region=region,
            set_identifier=f"websocket-{region}",
            health_check=websocket_check,
        )

        # Route 53 signs with an asymmetric P-256 key; KMS cannot rotate those, so the
        # key-signing key is rotated by hand (deploy/README.md).
        self.signing_key = kms.Key(
            self,
            "DnssecKey",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.signing_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("dnssec-route53.amazonaws.com")],
                actions=["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
                resources=["*"],
            )
        )
        key_signing_key = route53.KeySigningKey(
            self,
            "KeySigningKey",
            hosted_zone=zone,
            kms_key=self.signing_key,
            key_signing_key_name="fabrknt",
            status=route53.KeySigningKeyStatus.ACTIVE,
        )
        dnssec = route53.CfnDNSSEC(self, "Dnssec", hosted_zone_id=zone.hosted_zone_id)
        dnssec.node.add_dependency(key_signing_key)
