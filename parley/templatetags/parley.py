"""``{% load parley %}``: what a page needs to run Parley's scripts."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from parley.web.page_config import page_urls

register = template.Library()


@register.simple_tag
def parley_config() -> SafeString:
    """The addresses the scripts use, as ``<script type="application/json" id="parley-urls">``
    (data, not code: the Content-Security-Policy allows it)."""
    return json_script(page_urls(), "parley-urls")
