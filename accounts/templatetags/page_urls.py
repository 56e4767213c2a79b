"""`{% fixed_url 'home' %}` and `{{ campaign.pk|id_url:'trace:campaign' }}`: `{% url %}`
for names without arguments or with one UUID, reversed once per process
(fabrknt.pages.urls)."""

from __future__ import annotations

import uuid

from django import template

from fabrknt.pages import urls

register = template.Library()


@register.simple_tag
def fixed_url(name: str) -> str:
    return urls.fixed_url(name)


@register.filter
def id_url(pk: uuid.UUID | str, name: str) -> str:
    return urls.id_url(name, pk)
