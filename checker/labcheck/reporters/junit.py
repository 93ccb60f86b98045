"""JUnit XML: one testsuite per exercise, one testcase per check (fail -> failure, error -> error).

Valid against the JUnit schema Jenkins' xUnit plugin reads (junit-10.xsd): `skipped` is
counted on each testsuite (testsuites has no such attribute). Every text is printable first:
XML 1.0 cannot hold NUL or ESC at all, even escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from labcheck.reporters.base import Reporter, printable_result
from labcheck.results import LabResult, Status


class JunitReporter(Reporter):
    def render(self, result: LabResult) -> str:
        result = printable_result(result)
        suites = ET.Element(
            "testsuites",
            name=f"labcheck {result.lab}",
            tests=str(len(result.checks())),
            failures=str(result.count(Status.FAIL)),
            errors=str(result.count(Status.ERROR)),
        )
        for ex in result.exercises:
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=f"{result.lab}.{ex.id}",
                tests=str(len(ex.checks)),
                failures=str(sum(c.status is Status.FAIL for c in ex.checks)),
                errors=str(sum(c.status is Status.ERROR for c in ex.checks)),
                skipped=str(sum(c.status is Status.SKIP for c in ex.checks)),
            )
            for c in ex.checks:
                case = ET.SubElement(suite, "testcase", classname=f"{result.lab}.{ex.id}", name=f"{c.id}: {c.title}")
                evidence = "\n".join(f"{k}: {v}" for k, v in c.evidence.items())
                if c.status is Status.FAIL:
                    node = ET.SubElement(case, "failure", message=c.message, type="fail")
                    node.text = "\n".join(x for x in (f"hint: {c.hint}" if c.hint else "", evidence) if x)
                elif c.status is Status.ERROR:
                    node = ET.SubElement(case, "error", message=c.message, type="error")
                    node.text = evidence
                elif c.status is Status.SKIP:
                    ET.SubElement(case, "skipped", message=c.message)
                elif evidence:
                    ET.SubElement(case, "system-out").text = evidence
        ET.indent(suites)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
