"""Reading a metrics page as Prometheus does (with prometheus_client's own parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


class Page:
    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[tuple[str, dict[str, str], float]] = [
            (sample.name, dict(sample.labels), sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def has(self, name: str) -> bool:
        return any(sample_name == name for sample_name, _, _ in self.samples)

    def values(self, name: str, **labels: str) -> list[float]:
        return [
            value
            for sample_name, found, value in self.samples
            if sample_name == name and all(found.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        """The one sample of `name` with these labels."""
        found = self.values(name, **labels)
        assert len(found) == 1, f"{name}{labels}: {found} in\n{self.text}"
        return found[0]

    def total(self, name: str, **labels: str) -> float:
        """The sum of every sample of `name` with these labels (0 when there is none)."""
        return sum(self.values(name, **labels))
