"""`.env.example`: every setting of every service, with what it does and its default, written from
the settings classes themselves (`make docs`), so the file cannot fall behind the code (a test
compares them).

    python -m switchboard.cli.envfile .env.example
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from switchboard.cli.services import SERVICES
from switchboard.common.settings import Settings

HEADER = """\
# Every Switchboard setting, as an environment variable (docker compose reads `.env`).
# Uncomment and change what you need; the values shown are the defaults.
# Written by `make docs` from the settings classes: edit the code, not this file.
"""


def sections() -> list[tuple[str, dict[str, FieldInfo]]]:
    """The shared settings, then each service's own."""
    found: list[tuple[str, dict[str, FieldInfo]]] = [("every service", dict(Settings.model_fields))]
    for name in SERVICES:
        module = importlib.import_module(f"switchboard.{name}.settings")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Settings) and value is not Settings:
                own = {
                    k: v for k, v in value.model_fields.items() if k not in Settings.model_fields
                }
                found.append((name, own))
    return found


def _default(field: FieldInfo) -> str:
    value: Any = field.default
    if value is PydanticUndefined or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "get_secret_value", lambda: value)())


def render() -> str:
    blocks = [HEADER]
    for title, fields in sections():
        blocks.append(f"## {title}\n")
        for name, field in fields.items():
            notes = [
                f"# {text.strip()}".rstrip() for text in (field.description or "").splitlines()
            ]
            blocks.append(
                "\n".join([*notes, f"# SWITCHBOARD_{name.upper()}={_default(field)}"]) + "\n"
            )
    return "\n".join(blocks)


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".env.example")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
