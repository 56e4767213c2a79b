"""CloudFront in front of everything: /static/* from the static bucket for a year, /api/*
and /ws/* never cached, pages cached only as their own Cache-Control says; Brotli and
gzip, HTTP/3, security headers, real-time logs to a Kinesis stream."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_s3 as s3
from constructs import Construct

YEAR = Duration.days(365)
REALTIME_LOG_FIELDS = [
    "timestamp",
    "c-ip",
    "cs-method",
    "cs-uri-stem",
    "sc-status",
    "time-taken",
    "time-to-first-byte",
    "x-edge-location",
    "x-edge-result-type",
    "x-edge-response-result-type",
    "x-host-header",
    "cs-protocol-version",
    "sc-bytes",
]


class Edge(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        origin_domain: str,
        certificate: acm.ICertificate,
        static_bucket: s3.IBucket,
        logs_bucket: s3.IBucket,
        web_acl_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_stream = kinesis.Stream(
            self,
            "RealtimeLogStream",
            shard_count=1,
            retention_period=Duration.hours(24),
            encryption=kinesis.StreamEncryption.MANAGED,
        )
        log_role = iam.Role(
            self, "RealtimeLogRole", assumed_by=iam.ServicePrincipal("cloudfront.amazonaws.com")
        )
        self.realtime_logs = cloudfront.RealtimeLogConfig(
            self,
            "RealtimeLogs",
            end_points=[cloudfront.Endpoint.from_kinesis_stream(self.log_stream, log_role)],
            fields=REALTIME_LOG_FIELDS,
            sampling_rate=100,
        )
        static_cache = cloudfront.CachePolicy(
            self,
            "StaticCache",
            comment="Hashed static files: a year",
            default_ttl=YEAR,
            min_ttl=YEAR,
            max_ttl=YEAR,
            enable_accept_encoding_brotli=True,
            enable_accept_encoding_gzip=True,
        )
        # Pages: cached only when the response says so (Cache-Control: public, max-age);
        # the default TTL of 0 keeps everything else at the origin.
        page_cache = cloudfront.CachePolicy(
            self,
            "PageCache",
            comment="Pages: as the origin's Cache-Control says, else not at all",
            default_ttl=Duration.seconds(0),
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.days(1),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            enable_accept_encoding_brotli=True,
            enable_accept_encoding_gzip=True,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="HSTS, nosniff, DENY framing, referrer policy",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=YEAR,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
            remove_headers=["Server"],
        )
        app_origin = origins.HttpOrigin(
            origin_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=Duration.seconds(60),
        )

        def to_app(cache_policy: cloudfront.ICachePolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=app_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cache_policy,
                # Host, cookies, query strings and headers reach Django as sent.
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER,
                response_headers_policy=self.headers,
                realtime_log_config=self.realtime_logs,
                compress=True,
            )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Fabrknt Suite",
            domain_names=[domain_name],
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            web_acl_id=web_acl_arn,
            enable_logging=True,
            log_bucket=logs_bucket,
            log_file_prefix="cloudfront/",
            default_behavior=to_app(page_cache),
            additional_behaviors={
                "/static/*": cloudfront.BehaviorOptions(
                    origin=origins.S3BucketOrigin.with_origin_access_control(static_bucket),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=static_cache,
                    response_headers_policy=self.headers,
                    realtime_log_config=self.realtime_logs,
                    compress=True,
                ),
                "/api/*": to_app(cloudfront.CachePolicy.CACHING_DISABLED),
                "/ws/*": to_app(cloudfront.CachePolicy.CACHING_DISABLED),
            },
        )
