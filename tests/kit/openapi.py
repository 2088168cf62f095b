"""Check real answers against a service's own OpenAPI 3.1 document (JSON Schema 2020-12 via jsonschema)."""

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from flex_emulator.transport import Response


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


@dataclass
class OpenApiChecker:
    """Finds the operation an answer belongs to and validates the answer's JSON against its schema."""

    document: dict[str, Any]
    seen: set[tuple[str, str, str]] = field(default_factory=set)  # (method, path template, status)
    problems: list[str] = field(default_factory=list)

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for template, operations in self.document["paths"].items():
            if _pattern(template).match(path) and method.lower() in operations:
                return template, operations[method.lower()]
        return None

    def check(self, method: str, url: str, response: Response) -> None:
        path = urlsplit(url).path
        found = self.operation(method, path)
        if found is None:
            self.problems.append(f"{method} {path} is not in the document")
            return
        template, operation = found
        answers = operation["responses"]
        answer = answers.get(str(response.status)) or answers["default"]
        if str(response.status) not in answers and response.status < 400:
            self.problems.append(f"{method} {template} answered {response.status}, which the document does not list")
        self.seen.add((method, template, str(response.status)))
        content = answer.get("content", {})
        if response.content_type not in content:
            self.problems.append(
                f"{method} {template} {response.status}: {response.content_type} is not documented ({list(content)})"
            )
            return
        if response.content_type != "application/json":
            return
        schema = {**content["application/json"]["schema"], "components": self.document["components"]}
        for error in Draft202012Validator(schema).iter_errors(response.json()):
            self.problems.append(
                f"{method} {template} {response.status}: {error.message} at {list(error.absolute_path)}"
            )
