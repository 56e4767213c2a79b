"""The WAF web ACL of the operational design, in its priority order, built once for both
scopes: CLOUDFRONT (the distribution) and REGIONAL (the load balancers that Route 53
fails over to), so the direct path is guarded by the same rules.

Scope-down statements keep the rules off our own traffic: servers post clicks with ingest
keys and providers post webhooks with signatures (exempt from the /api/* rate rule, the
anonymous-IP and bot rules), and the paths whose body limit is above 8 KB (webhooks, the
click batch, NDA signing, multipart uploads) are left to the app, which enforces each
limit (the WAF sees at most the first 64 KB of a body anyway).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from fabrknt.security.waf import waf_ip_set_name
from fabrknt_aws.app_facts import EdgePaths

Statement = wafv2.CfnWebACL.StatementProperty
Rule = wafv2.CfnWebACL.RuleProperty

GLOBAL_RATE_LIMIT = 10_000  # requests per IP per 5 minutes
API_RATE_LIMIT = 1_000  # requests per IP per 5 minutes on /api/*
API_BODY_LIMIT = 8 * 1024
WRITE_METHODS = ("POST", "PUT", "PATCH")


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _byte_match(field: dict, value: str, constraint: str, transform: str = "NONE") -> Statement:
    return Statement(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(**field),
            positional_constraint=constraint,
            search_string=value,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type=transform)
            ],
        )
    )


def _path_starts(prefix: str) -> Statement:
    return _byte_match({"uri_path": {}}, prefix, "STARTS_WITH")


def _path_regex(pattern: str) -> Statement:
    return Statement(
        regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            regex_string=pattern,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
            ],
        )
    )


def _any(statements: Sequence[Statement]) -> Statement:
    if len(statements) == 1:
        return statements[0]
    return Statement(or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=list(statements)))


def _all(*statements: Statement) -> Statement:
    return Statement(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def _not(statement: Statement) -> Statement:
    return Statement(not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement))


def _ip_set(arn: str) -> Statement:
    return Statement(
        ip_set_reference_statement=wafv2.CfnWebACL.IPSetReferenceStatementProperty(arn=arn)
    )


def _rule(name: str, priority: int, statement: Statement, action: str) -> Rule:
    return Rule(
        name=name,
        priority=priority,
        statement=statement,
        action=wafv2.CfnWebACL.RuleActionProperty(**{action: {}}),
        visibility_config=_visibility(name),
    )


def _managed(
    name: str,
    priority: int,
    group: str,
    *,
    scope_down: Statement | None = None,
    count_only: Sequence[str] = (),
    configs: Sequence[wafv2.CfnWebACL.ManagedRuleGroupConfigProperty] = (),
) -> Rule:
    return Rule(
        name=name,
        priority=priority,
        statement=Statement(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=group,
                scope_down_statement=scope_down,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in count_only
                ]
                or None,
                managed_rule_group_configs=list(configs) or None,
            )
        ),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(name),
    )


def web_acl_rules(
    paths: EdgePaths,
    *,
    allow_list_arns: list[str],
    block_list_arns: list[str],
    blocked_countries: list[str],
) -> list[Rule]:
    api = _path_starts(paths.api_prefix)
    servers_and_providers = _any(
        [_path_starts(p) for p in (*paths.ingest_prefixes, *paths.webhook_prefixes)]
    )
    own_body_limit = _any(
        [
            *(_path_starts(p) for p in (*paths.webhook_prefixes, *paths.large_body_prefixes)),
            *(_path_regex(p) for p in paths.upload_patterns),
        ]
    )
    uploads = _any([_path_regex(p) for p in paths.upload_patterns])
    content_type = {"single_header": {"Name": "content-type"}}
    json_body = _byte_match(content_type, "application/json", "STARTS_WITH", "LOWERCASE")
    multipart_upload = _all(
        uploads, _byte_match(content_type, "multipart/form-data", "STARTS_WITH", "LOWERCASE")
    )
    has_body = Statement(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
            ),
            comparison_operator="GT",
            size=0,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
            ],
        )
    )
    body_over_limit = Statement(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
            ),
            comparison_operator="GT",
            size=API_BODY_LIMIT,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
            ],
        )
    )
    write = _any([_byte_match({"method": {}}, m, "EXACTLY") for m in WRITE_METHODS])

    def rate(limit: int, scope_down: Statement | None) -> Statement:
        return Statement(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=limit,
                aggregate_key_type="IP",
                evaluation_window_sec=300,
                scope_down_statement=scope_down,
            )
        )

    not_ours = _not(servers_and_providers)
    return [
        _rule("IpAllowList", 0, _any([_ip_set(arn) for arn in allow_list_arns]), "allow"),
        _rule("RateLimitGlobal", 1, rate(GLOBAL_RATE_LIMIT, None), "block"),
        _rule("RateLimitApi", 2, rate(API_RATE_LIMIT, _all(api, not_ours)), "block"),
        _rule("IpBlockList", 5, _any([_ip_set(arn) for arn in block_list_arns]), "block"),
        # Its own 8 KB body rule would refuse webhooks, click batches and uploads: the
        # body size is rule 100's, with the exemptions.
        _managed(
            "AWSManagedRulesCommonRuleSet",
            10,
            "AWSManagedRulesCommonRuleSet",
            count_only=["SizeRestrictions_BODY"],
        ),
        _managed("AWSManagedRulesSQLiRuleSet", 20, "AWSManagedRulesSQLiRuleSet"),
        _managed(
            "AWSManagedRulesKnownBadInputsRuleSet", 30, "AWSManagedRulesKnownBadInputsRuleSet"
        ),
        _managed("AWSManagedRulesLinuxRuleSet", 40, "AWSManagedRulesLinuxRuleSet"),
        _managed(
            "AWSManagedRulesAmazonIpReputationList", 50, "AWSManagedRulesAmazonIpReputationList"
        ),
        _managed(
            "AWSManagedRulesAnonymousIpList",
            60,
            "AWSManagedRulesAnonymousIpList",
            scope_down=not_ours,
        ),
        _managed(
            "AWSManagedRulesBotControlRuleSet",
            70,
            "AWSManagedRulesBotControlRuleSet",
            scope_down=not_ours,
            configs=[
                wafv2.CfnWebACL.ManagedRuleGroupConfigProperty(
                    aws_managed_rules_bot_control_rule_set=wafv2.CfnWebACL.AWSManagedRulesBotControlRuleSetProperty(
                        inspection_level="COMMON"
                    )
                )
            ],
        ),
        _rule("CrossSiteScripting", 80, _xss(), "block"),
        _rule(
            "GeoBlock",
            90,
            Statement(
                geo_match_statement=wafv2.CfnWebACL.GeoMatchStatementProperty(
                    country_codes=blocked_countries
                )
            ),
            "block",
        ),
        _rule("ApiBodySize", 100, _all(api, body_over_limit, _not(own_body_limit)), "block"),
        _rule(
            "ApiContentType",
            110,
            _all(api, write, has_body, _not(json_body), _not(multipart_upload)),
            "block",
        ),
    ]


def _xss() -> Statement:
    def on(field: dict, transform: str) -> Statement:
        return Statement(
            xss_match_statement=wafv2.CfnWebACL.XssMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(**field),
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
                    wafv2.CfnWebACL.TextTransformationProperty(priority=1, type=transform),
                ],
            )
        )

    return _any(
        [
            on({"query_string": {}}, "HTML_ENTITY_DECODE"),
            on({"uri_path": {}}, "HTML_ENTITY_DECODE"),
            on({"body": {"OversizeHandling": "CONTINUE"}}, "HTML_ENTITY_DECODE"),
        ]
    )


class EdgeWebAcl(Construct):
    """A web ACL of `scope` with the rules above and its own allow and block IP sets, IPv4
    and IPv6 (an IP set serves one scope and one version), named for
    `manage.py export_waf_ip_sets` to write the admin's IP rules into."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        waf_scope: str,
        paths: EdgePaths,
        blocked_countries: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.ip_sets = {
            (action, version): wafv2.CfnIPSet(
                self,
                f"{action.capitalize()}ListIpv{version}",
                name=waf_ip_set_name(scope=waf_scope, action=action, version=version),
                scope=waf_scope,
                ip_address_version=f"IPV{version}",
                addresses=[],
                description=f"The admin {action} rules, IPv{version}",
            )
            for action in ("allow", "block")
            for version in (4, 6)
        }
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"fabrknt-{waf_scope.lower()}",  # the dashboard's WAF widget names it
            scope=waf_scope,
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"fabrknt-{waf_scope.lower()}"),
            rules=web_acl_rules(
                paths,
                allow_list_arns=[self.ip_sets[("allow", v)].attr_arn for v in (4, 6)],
                block_list_arns=[self.ip_sets[("block", v)].attr_arn for v in (4, 6)],
                blocked_countries=blocked_countries,
            ),
        )
