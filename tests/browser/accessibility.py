"""Accessibility checks with axe-core: inject it into a Playwright page, run the WCAG 2 A and AA
rules, and fail with the list of what it found.

axe-core comes from npm into ``tests/browser/axe/`` (``make axe-core``, which ``make test`` runs;
``package-lock.json`` pins the version). It runs inside the page, so it sees the page as the
browser drew it: computed colours, the accessibility tree, whatever script has added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from conftest import needs

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA: every rule axe-core tags with one of these runs.
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map((node) => ({ target: node.target.join(" "), summary: node.failureSummary })),
  }));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core's WCAG 2 A and AA rules find wrong on ``page`` as it is now."""
    needs("axe-core", AXE.exists(), "make axe-core (npm ci in tests/browser/axe)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_A_AA)
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: the rule, its impact, and each element with what is wrong."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    """Fail, listing every violation, unless axe-core finds nothing wrong on ``page``."""
    violations = axe_violations(page)
    assert not violations, f"axe-core found {len(violations)} violation(s) on {what} ({page.url}):\n" + describe(
        violations
    )
