"""`manage.py export_waf_ip_sets [--scope CLOUDFRONT|REGIONAL]`: the admin's enabled IP
rules into the WAF IP sets of the AWS deployment (fabrknt/security/waf.py); both scopes
by default. Credentials and region are boto3's (the CloudFront scope is always
us-east-1's). Safe to re-run: each run writes the whole list."""

from __future__ import annotations

import boto3  # type: ignore[import-untyped]  # boto3 ships no types (boto3-stubs is not installed)
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fabrknt.security.waf import SCOPES, ip_rules_export_to_waf


class Command(BaseCommand):
    help = "Write the enabled IP rules into the WAF IP sets (allow/block, IPv4/IPv6)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scope", choices=SCOPES, action="append")

    def handle(self, *args, scope: list[str] | None = None, **options) -> None:
        for name in scope or SCOPES:
            # CloudFront's WAF resources live in us-east-1 whatever the default region.
            region = {"CLOUDFRONT": "us-east-1"}.get(name)
            client = boto3.client("wafv2", region_name=region)
            try:
                written = ip_rules_export_to_waf(client=client, scope=name)
            except LookupError as error:
                raise CommandError(str(error)) from error
            for ip_set, count in written.items():
                self.stdout.write(f"{ip_set}: {count} network(s)")
