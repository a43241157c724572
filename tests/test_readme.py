"""The README's table of services must say what the code does."""

import re
from pathlib import Path

from switchboard.cli.services import SERVICES, subscriptions
from switchboard.common.settings import Settings
from switchboard.common.topics import REGISTRY

README = Path(__file__).parent.parent / "README.md"


def _table() -> dict[str, dict[str, set[str] | int]]:
    rows = {}
    for line in README.read_text().splitlines():
        match = re.match(r"\| \[(\w+)\]\([^)]*\) \| (\d+) \| ([^|]*) \| ([^|]*) \|", line)
        if match:
            name, port, consumes, emits = match.groups()
            rows[name] = {
                "port": int(port),
                "consumes": set(re.findall(r"`([a-z_.]+)`", consumes)),
                "emits": set(re.findall(r"`([a-z_.]+)`", emits)),
            }
    return rows


def test_every_service_is_in_the_readme_with_its_port() -> None:
    table = _table()
    assert set(table) == set(SERVICES)
    for name in SERVICES:
        assert table[name]["port"] == Settings().port_of(name)


def test_consumed_and_emitted_topics_match_the_code_and_every_topic_is_listed() -> None:
    table = _table()
    for name in SERVICES:
        declared = subscriptions(name)
        assert table[name]["consumes"] == {t.name for t in declared.topics}, name
        assert table[name]["emits"] == {t.name for t in declared.emits}, name
    mentioned = set().union(*(row["emits"] | row["consumes"] for row in table.values()))
    assert mentioned == {t.name for t in REGISTRY}, "every topic is some service's business"


def _bullet(section: str, label: str) -> set[str]:
    """The topics a `- **label**` bullet of a README section names (up to the next bullet)."""
    match = re.search(rf"^- \*\*{label}\*\*(.*?)(?=^- \*\*|\Z)", section, re.M | re.S)
    assert match, f"no **{label}** bullet"
    return set(re.findall(r"`([a-z_]+\.[a-z_.]+)`", match.group(1)))


def test_every_service_readme_has_one_shape_and_says_what_the_code_does() -> None:
    """Each service's README: an Interfaces section whose Consumes and Emits are the code's, what
    it Owns, and how to run and test it alone."""
    for name in SERVICES:
        text = (README.parent / "services" / name / "README.md").read_text()
        interfaces = text.partition("\n## Interfaces\n")[2].partition("\n## ")[0]
        assert interfaces, f"{name}: no Interfaces section"
        declared = subscriptions(name)
        assert _bullet(interfaces, "Consumes") == {t.name for t in declared.topics}, name
        assert _bullet(interfaces, "Emits") == {t.name for t in declared.emits}, name
        assert "- **Owns**" in interfaces, name
        assert f"switchboard service {name}" in text and f"pytest services/{name}" in text, name
