"""JUnit XML: one testcase per check, so any CI shows the catalogue as tests.

fail -> <failure>, warn -> a passing testcase with the warning in <system-out> (a failure under
strict), skip -> <skipped>. Evidence goes into the failure body, one line per place.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.evidence import visible
from conformance.models import Report, Result, Verdict


def _details(result: Result) -> str:
    lines = [result.reason, *(f"  {e.describe()}" for e in result.evidence)]
    if result.spec:
        lines.append(f"spec: {result.spec}")
    return "\n".join(lines)


def junit_tree(report: Report, *, strict: bool = False) -> ET.Element:
    counts = report.counts()
    failures = counts[Verdict.FAIL] + (counts[Verdict.WARN] if strict else 0)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"sse-conformance {report.profile.name}",
            "tests": str(len(report.results)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(counts[Verdict.SKIP]),
            "time": f"{report.duration_s:.3f}",
            "timestamp": report.started.isoformat(),
        },
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "target", "value": report.target})
    ET.SubElement(props, "property", {"name": "profile", "value": report.profile.name})
    ET.SubElement(props, "property", {"name": "end", "value": str(report.capture.end_reason)})
    for result in report.results:
        group, _, _ = result.check_id.partition(".")
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"sse_conformance.{group}", "name": result.check_id, "time": "0"},
        )
        if result.verdict is Verdict.FAIL or (strict and result.verdict is Verdict.WARN):
            failure = ET.SubElement(
                case, "failure", {"message": result.reason, "type": f"{result.severity}"}
            )
            failure.text = _details(result)
        elif result.verdict is Verdict.SKIP:
            ET.SubElement(case, "skipped", {"message": result.reason})
        elif result.verdict is Verdict.WARN:
            out = ET.SubElement(case, "system-out")
            out.text = "WARNING: " + _details(result)
    root = ET.Element("testsuites")
    root.append(suite)
    _show_controls(root)
    ET.indent(root)
    return root


def _show_controls(root: ET.Element) -> None:
    """Control characters from the server as ``\\xNN``: XML 1.0 cannot hold most of them (the
    file would not parse) and a terminal acts on the rest."""
    for element in root.iter():
        if element.text:
            element.text = visible(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = visible(value)


def write_junit(report: Report, path: str | Path, *, strict: bool = False) -> None:
    tree = ET.ElementTree(junit_tree(report, strict=strict))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tree.write(target, encoding="utf-8", xml_declaration=True)
