"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure DevOps).

One test suite per manifest and one test case per rule that ran on it (so a fixed
problem shows as a test that passes again). A case fails when the rule reported a finding
at or above `--fail-on`, as the exit code does; findings below it, and suppressed ones,
are listed in the case's output without failing it. A check that could not be verified
(MCP606 without a client the authorization server knows) is a skipped case.
"""

from __future__ import annotations

from typing import IO
from xml.etree import ElementTree as ET

from mcplint.escape import xml_text
from mcplint.findings import FileResult, Finding, fails
from mcplint.report import Report
from mcplint.report.text import evidence_line, location


def _line(report: Report, finding: Finding) -> str:
    kind = "not verified" if finding.not_verified else finding.severity
    text = f"{location(finding, report)}: {kind}: {xml_text(finding.message)}"
    if finding.evidence:
        text += f"\n    evidence: {evidence_line(finding.evidence)}"
    if finding.suppression:
        reason = xml_text(finding.suppression.get("reason") or "no reason given")
        text += f"  [suppressed: {reason}]"
    return text


def _case(report: Report, result: FileResult, code: str, findings: list[Finding]) -> ET.Element:
    rule = report.catalog.rules.get(code)
    name = xml_text(f"{code} {rule.name}" if rule else code)
    path = xml_text(report.path(result.path))
    case = ET.Element("testcase", name=name, classname=path, file=path, time="0")
    failing = [f for f in findings if fails(f, report.fail_on)]
    unverified = [f for f in findings if f.not_verified and not f.suppressed]
    if failing:
        failure = ET.SubElement(case, "failure", type=failing[0].severity,
                                message=xml_text(failing[0].message))
        failure.text = "\n".join(_line(report, f) for f in failing)
    elif unverified:  # the check could not be made: neither a pass nor a failure
        ET.SubElement(case, "skipped",
                      message=xml_text(f"not verified: {unverified[0].message}"))
    others = [f for f in findings if f not in failing]
    if others:
        ET.SubElement(case, "system-out").text = "\n".join(_line(report, f) for f in others)
    return case


def _suite(report: Report, result: FileResult) -> ET.Element:
    by_code: dict[str, list[Finding]] = {code: [] for code in sorted(result.rules_run)}
    for finding in result.findings:
        by_code.setdefault(finding.code, []).append(finding)
    cases = [_case(report, result, code, found) for code, found in sorted(by_code.items())]
    failures = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    suite = ET.Element("testsuite", name=xml_text(report.path(result.path)), tests=str(len(cases)),
                       failures=str(failures), errors="0", skipped=str(skipped), time="0")
    suite.extend(cases)
    return suite


def document(report: Report) -> ET.Element:
    suites = [_suite(report, result) for result in report.results]
    root = ET.Element("testsuites", name=f"mcplint {report.command}",
                      tests=str(sum(int(s.get("tests", 0)) for s in suites)),
                      failures=str(sum(int(s.get("failures", 0)) for s in suites)),
                      skipped=str(sum(int(s.get("skipped", 0)) for s in suites)),
                      errors="0", time="0")
    root.extend(suites)
    return root


def write(report: Report, out: IO[str]) -> None:
    tree = ET.ElementTree(document(report))
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    tree.write(out, encoding="unicode")
    out.write("\n")
