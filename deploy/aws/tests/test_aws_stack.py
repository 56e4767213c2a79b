"""The AWS stack as synthesized: every resource and setting issue 14 lists."""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk.assertions import Match
from django.conf import settings
from fabrknt_aws.app_facts import GENERATED_SECRETS, OPERATOR_SECRETS, celery_queue_names
from fabrknt_aws.services import ASGI_COMMAND

from fabrknt.security.waf import waf_ip_set_name

SETTINGS = Path(__file__).resolve().parents[3] / "fabrknt" / "settings.py"


def resources(template, kind: str) -> dict:
    return template.find_resources(kind)


def only(template, kind: str) -> dict:
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"{kind}: {len(found)}"
    return found[0]["Properties"]


# --- network and data -------------------------------------------------------------------


def test_vpc_spans_two_availability_zones(template):
    template.resource_count_is("AWS::EC2::VPC", 1)
    subnets = resources(template, "AWS::EC2::Subnet")
    assert len(subnets) == 6  # public, app and data in each of two AZs
    zones = {str(s["Properties"]["AvailabilityZone"]) for s in subnets.values()}
    assert len(zones) == 2


def test_postgres_is_multi_az_encrypted_with_kms_and_backed_up_for_seven_days(template):
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "MultiAZ": True,
            "StorageEncrypted": True,
            "KmsKeyId": Match.any_value(),
            "BackupRetentionPeriod": 7,
            "DeletionProtection": True,
        },
    )
    template.resource_count_is("AWS::RDS::DBInstance", 2)  # the primary and its replica


def test_read_replica_and_proxy(template):
    template.has_resource_properties(
        "AWS::RDS::DBInstance", {"SourceDBInstanceIdentifier": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::RDS::DBProxy", {"EngineFamily": "POSTGRESQL", "RequireTLS": True}
    )


def test_database_credentials_rotate(template):
    template.has_resource_properties(
        "AWS::SecretsManager::RotationSchedule",
        {"RotationRules": {"ScheduleExpression": "rate(30 days)"}},
    )


def test_a_rotated_database_password_redeploys_every_service(template):
    (rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::Events::Rule").values()
        if "RotationSucceeded" in str(r["Properties"].get("EventPattern"))
    ]
    assert rule["EventPattern"]["source"] == ["aws.secretsmanager"]
    assert len(rule["Targets"]) == 5  # web, asgi, worker, beat, canary
    assert all("forceNewDeployment" in str(t["Input"]) for t in rule["Targets"])


def test_redis_has_an_encrypted_replica_with_failover(template):
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {
            "Engine": "redis",
            "NumCacheClusters": 2,
            "AutomaticFailoverEnabled": True,
            "MultiAZEnabled": True,
            "AtRestEncryptionEnabled": True,
            "TransitEncryptionEnabled": True,
            "AuthToken": Match.any_value(),
        },
    )


def test_every_celery_queue_has_a_queue_and_a_dead_letter_queue(template):
    names = celery_queue_names()
    assert settings.CELERY_TASK_DEFAULT_QUEUE in names
    template.resource_count_is("AWS::SQS::Queue", 2 * len(names))
    for name in names:
        template.has_resource_properties(
            "AWS::SQS::Queue",
            {
                "QueueName": f"fabrknt-{name}",
                "VisibilityTimeout": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
                "RedrivePolicy": {
                    "deadLetterTargetArn": Match.any_value(),
                    "maxReceiveCount": settings.CELERY_MAX_REDELIVERIES + 1,
                },
            },
        )
        template.has_resource_properties(
            "AWS::SQS::Queue", {"QueueName": f"fabrknt-{name}-dead-letters"}
        )


def test_queue_names_follow_the_celery_routes(settings):
    from kombu import Queue

    settings.CELERY_TASK_ROUTES = {"trace.flush_clicks": {"queue": "clicks"}}
    assert celery_queue_names() == ("clicks", "default")
    settings.CELERY_TASK_ROUTES = [{"pulse.*": {"queue": "webhooks"}}]
    settings.CELERY_TASK_QUEUES = [Queue("default"), Queue("chain")]
    assert celery_queue_names() == ("chain", "default", "webhooks")


def test_every_secret_the_settings_read_is_in_secrets_manager(template):
    """Each env read in settings.py whose name says secret is one of the stack's secrets
    (or is assembled from one, or is named here with the reason it is not one)."""
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', SETTINGS.read_text()))
    secret_like = {
        n for n in read if re.search(r"SECRET|TOKEN$|PASSWORD|_KEY$|_KEYS$|_AUTH$", n)
    } | {"EMAIL_URL", "CHAIN_RPC_URLS", "PRICE_FEED_URL", "DATABASE_URL", "REDIS_URL"}
    not_secret = {
        "DISCORD_RELAY_PUBLIC_KEY": "a public key",
        "CERTIFICATE_PUBLIC_KEYS": "public keys",
        "CLICK_STREAM_KEY": "a Redis key name",
        "RATE_LIMIT_API_KEY": "a rate",
        "DISCORD_CLIENT_SECRET": "read as DISCORD_OAUTH_CLIENT_SECRET, the stack's name",
        "DATABASE_URL": "assembled from the RDS secret (deploy/entrypoint.py)",
        "REDIS_URL": "assembled from the Redis auth token secret",
    }
    stack_secrets = set(GENERATED_SECRETS) | set(OPERATOR_SECRETS)
    assert secret_like - set(not_secret) <= stack_secrets, secret_like - stack_secrets
    for name in stack_secrets:
        template.has_resource_properties("AWS::SecretsManager::Secret", {"Name": f"fabrknt/{name}"})
    task = resources(template, "AWS::ECS::TaskDefinition")
    web = next(t for t in task.values() if "gunicorn" in str(t["Properties"]))
    injected = {s["Name"] for s in web["Properties"]["ContainerDefinitions"][0]["Secrets"]}
    assert stack_secrets | {"DATABASE_USER", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"} == injected


def test_cloudtrail_audits_every_region(template):
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "IsMultiRegionTrail": True,
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": True,
            "IsLogging": True,
        },
    )


# --- buckets ----------------------------------------------------------------------------

LIFECYCLE = {
    "Status": "Enabled",
    "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}],
    "NoncurrentVersionTransitions": [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 60},
        {"StorageClass": "GLACIER", "TransitionInDays": 90},
        {"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180},
    ],
    "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
}


def test_buckets_are_encrypted_versioned_private_and_tiered(template, replica_template):
    for tmpl, count in ((template, 4), (replica_template, 2)):
        buckets = resources(tmpl, "AWS::S3::Bucket")
        assert len(buckets) == count
        for bucket in buckets.values():
            props = bucket["Properties"]
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}
            assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert props["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }
            (rule,) = props["LifecycleConfiguration"]["Rules"]
            assert {k: rule[k] for k in LIFECYCLE} == LIFECYCLE


def test_dataroom_and_backups_replicate_to_the_other_region(template, replica_template):
    replicated = [
        b["Properties"]["ReplicationConfiguration"]
        for b in resources(template, "AWS::S3::Bucket").values()
        if "ReplicationConfiguration" in b["Properties"]
    ]
    assert len(replicated) == 2
    for config in replicated:
        (rule,) = config["Rules"]
        assert rule["Status"] == "Enabled"
        assert "us-west-2" in str(rule["Destination"]["Bucket"])
        assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    names = [
        str(b["Properties"]["BucketName"])
        for b in resources(replica_template, "AWS::S3::Bucket").values()
    ]
    assert any("dataroom-replica" in n for n in names)
    assert any("backups-replica" in n for n in names)


# --- services ---------------------------------------------------------------------------


def _container(template, fragment: str) -> dict:
    for task in resources(template, "AWS::ECS::TaskDefinition").values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        if fragment in " ".join(container.get("Command", [])):
            return container
    raise AssertionError(fragment)


def test_fargate_services_web_asgi_worker_beat_and_canary(template):
    services = resources(template, "AWS::ECS::Service")
    assert len(services) == 5
    assert all(s["Properties"]["LaunchType"] == "FARGATE" for s in services.values())
    assert _container(template, "gunicorn")["Command"] == [
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "fabrknt.wsgi",
    ]
    assert _container(template, "fabrknt.live.serve")["Command"] == ASGI_COMMAND
    worker = _container(template, "worker")["Command"]
    assert worker[-2:] == ["-Q", ",".join(celery_queue_names())]
    assert _container(template, "migrate")["User"] == "10001:10001"
    beat = next(
        s["Properties"]
        for s in services.values()
        if s["Properties"]["DesiredCount"] == 1
        and s["Properties"]["DeploymentConfiguration"].get("MaximumPercent") == 100
    )
    assert beat["DeploymentConfiguration"]["MinimumHealthyPercent"] == 0


def test_load_balancer_checks_readyz_and_sends_websockets_to_asgi(template):
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"HealthCheckPath": "/readyz", "Port": 8000, "TargetType": "ip"},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"HealthCheckPath": "/readyz", "Port": 8001},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {"Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/ws/*"]}}]},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443, "Protocol": "HTTPS"}
    )


def test_workers_scale_on_queue_depth(template):
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Metrics": Match.array_with(
                [Match.object_like({"Expression": Match.string_like_regexp(r"^SUM\(\[q0")})]
            )
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {"PolicyType": "StepScaling", "StepScalingPolicyConfiguration": Match.any_value()},
    )


# --- edge -------------------------------------------------------------------------------


def test_cloudfront_behaviours_compression_http3_headers_and_realtime_logs(template):
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["HttpVersion"] == "http2and3"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == {"/static/*", "/api/*", "/ws/*"}
    disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS's CachingDisabled policy
    assert behaviours["/api/*"]["CachePolicyId"] == disabled
    assert behaviours["/ws/*"]["CachePolicyId"] == disabled
    for behaviour in [*behaviours.values(), config["DefaultCacheBehavior"]]:
        assert behaviour["Compress"] is True
        assert "RealtimeLogConfigArn" in behaviour
        assert "ResponseHeadersPolicyId" in behaviour
    year = 365 * 24 * 3600
    template.has_resource_properties(
        "AWS::CloudFront::CachePolicy",
        {
            "CachePolicyConfig": Match.object_like(
                {
                    "DefaultTTL": year,
                    "MinTTL": year,
                    "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like(
                        {"EnableAcceptEncodingBrotli": True, "EnableAcceptEncodingGzip": True}
                    ),
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": Match.object_like(
                {
                    "SecurityHeadersConfig": Match.object_like(
                        {
                            "StrictTransportSecurity": Match.object_like(
                                {"AccessControlMaxAgeSec": year, "IncludeSubdomains": True}
                            ),
                            "FrameOptions": {"FrameOption": "DENY", "Override": True},
                            "ContentTypeOptions": {"Override": True},
                        }
                    )
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::CloudFront::RealtimeLogConfig",
        {"EndPoints": [Match.object_like({"StreamType": "Kinesis"})], "SamplingRate": 100},
    )
    template.resource_count_is("AWS::Kinesis::Stream", 1)


PRIORITIES = {
    "IpAllowList": 0,
    "RateLimitGlobal": 1,
    "RateLimitApi": 2,
    "IpBlockList": 5,
    "AWSManagedRulesCommonRuleSet": 10,
    "AWSManagedRulesSQLiRuleSet": 20,
    "AWSManagedRulesKnownBadInputsRuleSet": 30,
    "AWSManagedRulesLinuxRuleSet": 40,
    "AWSManagedRulesAmazonIpReputationList": 50,
    "AWSManagedRulesAnonymousIpList": 60,
    "AWSManagedRulesBotControlRuleSet": 70,
    "CrossSiteScripting": 80,
    "GeoBlock": 90,
    "ApiBodySize": 100,
    "ApiContentType": 110,
}


def _acls(template) -> dict[str, dict]:
    return {
        acl["Properties"]["Scope"]: {r["Name"]: r for r in acl["Properties"]["Rules"]}
        for acl in resources(template, "AWS::WAFv2::WebACL").values()
    }


def test_web_acls_have_the_design_rules_in_order_at_both_scopes(template):
    acls = _acls(template)
    assert set(acls) == {"CLOUDFRONT", "REGIONAL"}
    for rules in acls.values():
        assert {name: rule["Priority"] for name, rule in rules.items()} == PRIORITIES
        assert rules["RateLimitGlobal"]["Statement"]["RateBasedStatement"]["Limit"] == 10_000
        api_rate = rules["RateLimitApi"]["Statement"]["RateBasedStatement"]
        assert api_rate["Limit"] == 1_000 and api_rate["EvaluationWindowSec"] == 300
        assert rules["IpAllowList"]["Action"] == {"Allow": {}}
        assert "GeoMatchStatement" in rules["GeoBlock"]["Statement"]
    for scope in ("CLOUDFRONT", "REGIONAL"):
        for action in ("allow", "block"):
            for version in (4, 6):
                template.has_resource_properties(
                    "AWS::WAFv2::IPSet",
                    {
                        "Name": waf_ip_set_name(scope=scope, action=action, version=version),
                        "Scope": scope,
                        "IPAddressVersion": f"IPV{version}",
                    },
                )
    template.resource_count_is("AWS::WAFv2::IPSet", 8)
    template.resource_count_is("AWS::WAFv2::WebACLAssociation", 2)


def test_scope_downs_spare_ingest_webhooks_and_large_bodies(template):
    rules = _acls(template)["CLOUDFRONT"]
    text = {name: str(rule["Statement"]) for name, rule in rules.items()}
    for name in (
        "RateLimitApi",
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesBotControlRuleSet",
    ):
        assert "/api/v1/clicks" in text[name] and "/api/v1/webhooks/" in text[name], name
        assert "NotStatement" in text[name]
    body = text["ApiBodySize"]
    assert "'Size': 8192" in body
    for path in (
        "/api/v1/clicks/batch",
        "/api/v1/webhooks/",
        "/api/v1/github/webhook",
        "/api/v1/nda/sign",
        "documents",
    ):
        assert path in body, path
    assert "multipart/form-data" in text["ApiContentType"]
    assert "application/json" in text["ApiContentType"]
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
    ]


# --- DNS --------------------------------------------------------------------------------


def test_failover_weighted_and_latency_records(template):
    records = [r["Properties"] for r in resources(template, "AWS::Route53::RecordSet").values()]
    failover = sorted(r["Failover"] for r in records if "Failover" in r)
    assert failover == ["PRIMARY", "SECONDARY"]
    primary = next(r for r in records if r.get("Failover") == "PRIMARY")
    assert primary["AliasTarget"]["HostedZoneId"] == "Z2FDTNDATAQYW2"  # CloudFront
    assert all("HealthCheckId" in r for r in records if "Failover" in r)
    weights = sorted(str(r["Weight"]) for r in records if "Weight" in r)
    assert len(weights) == 2
    assert [r for r in records if "Region" in r]
    template.has_parameter("StableWeight", {"Default": 90})
    template.has_parameter("CanaryWeight", {"Default": 10})


def test_https_health_checks_every_30_seconds(template):
    checks = resources(template, "AWS::Route53::HealthCheck")
    assert len(checks) == 3
    for check in checks.values():
        config = check["Properties"]["HealthCheckConfig"]
        assert config["Type"] == "HTTPS" and config["RequestInterval"] == 30
        assert config["ResourcePath"] == "/readyz"


def test_dnssec_signs_with_a_kms_key(template):
    template.has_resource_properties(
        "AWS::KMS::Key", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}
    )
    template.has_resource_properties("AWS::Route53::KeySigningKey", {"Status": "ACTIVE"})
    template.resource_count_is("AWS::Route53::DNSSEC", 1)


def test_certificate_and_domain_parameters(template):
    template.has_resource_properties(
        "AWS::CertificateManager::Certificate", {"ValidationMethod": "DNS"}
    )
    for name in ("ZoneName", "HostedZoneId", "AppDomain", "OriginDomain", "WebSocketDomain"):
        template.has_parameter(name, {"Type": "String"})


# --- monitoring -------------------------------------------------------------------------


def test_an_alarm_per_threshold_of_the_apps_list_and_a_dashboard(template):
    """The application's thresholds (fabrknt/ops/alarms.py) are the alarms, one for one."""
    from fabrknt.ops.alarms import ALARMS

    alarms = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if "MonitoringAlarms" in str(a["Properties"].get("AlarmActions"))  # the SNS topic
    ]
    assert len(alarms) == len(ALARMS)
    for threshold in ALARMS:
        (alarm,) = [a for a in alarms if a["AlarmDescription"].startswith(threshold.name + ":")]
        assert alarm["Threshold"] == threshold.threshold
        assert alarm["ComparisonOperator"] == threshold.comparison
        assert alarm["EvaluationPeriods"] == threshold.evaluation_periods
    (latency,) = [a for a in alarms if a["AlarmDescription"].startswith("http_latency_p99:")]
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Period"] == 300
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_the_tasks_may_publish_the_backup_age_the_alarm_reads(template):
    """The app puts BackupAgeSeconds (fabrknt/ops/cloudwatch.py) in the namespace the task
    environment names, which is the alarm's, with no dimensions, as the alarm reads it; every
    task role may put metrics in that namespace only."""
    from fabrknt.ops.cloudwatch import BACKUP_AGE_METRIC

    (alarm,) = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmDescription", "").startswith("backup_age:")
    ]
    assert alarm["MetricName"] == BACKUP_AGE_METRIC and "Dimensions" not in alarm
    assert alarm["TreatMissingData"] == "breaching"
    for command in ("celery", "gunicorn", "fabrknt.live.serve"):
        environment = {e["Name"]: e["Value"] for e in _container(template, command)["Environment"]}
        assert environment["CLOUDWATCH_METRICS_NAMESPACE"] == alarm["Namespace"]
    put = {
        "Action": "cloudwatch:PutMetricData",
        "Condition": {"StringEquals": {"cloudwatch:namespace": alarm["Namespace"]}},
        "Effect": "Allow",
        "Resource": "*",
    }
    roles = resources(template, "AWS::ECS::TaskDefinition")
    task_roles = {t["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0] for t in roles.values()}
    allowed = {
        role["Ref"]
        for policy in resources(template, "AWS::IAM::Policy").values()
        if put in policy["Properties"]["PolicyDocument"]["Statement"]
        for role in policy["Properties"]["Roles"]
    }
    assert task_roles <= allowed, task_roles - allowed


def test_an_alarm_without_a_cloudwatch_metric_fails_the_synth():
    import dataclasses

    import aws_cdk as cdk
    import pytest
    from fabrknt_aws.app_facts import app_facts
    from fabrknt_aws.stacks import build_app

    from fabrknt.ops.alarms import DEAD_LETTERS

    with pytest.raises(Exception, match="no_such_alarm"):
        build_app(
            cdk.App(),
            facts=app_facts(),
            thresholds=[dataclasses.replace(DEAD_LETTERS, name="no_such_alarm")],
        )


def test_templates_pass_cfn_lint(template, replica_template, tmp_path):
    """CloudFormation's own schema and rules (cfn-lint, requirements-dev.txt): errors fail,
    warnings about what CDK itself writes do not."""
    import json
    import subprocess
    import sys

    paths = []
    for name, tmpl in (("main", template), ("replica", replica_template)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(tmpl.to_json()))
        paths.append(str(path))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *paths], capture_output=True, text=True)
    assert result.returncode & 2 == 0, result.stdout  # bit 2: errors
