"""Compose-style progress: rendered into a fake terminal, and plain lines elsewhere."""

from __future__ import annotations

import io
import re

from aiodocker.compose._runtime_progress import Progress


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(text: str) -> list[str]:
    """Play ``text`` on a tiny terminal (CR, LF, erase line, cursor up); return its lines."""
    rows: list[str] = [""]
    row = 0
    for token in re.findall(r"\x1b\[(\d*)([A-Za-z])|(\r)|(\n)|([^\x1b\r\n]+)", text):
        number, command, cr, lf, chars = token
        if command == "A":
            row = max(0, row - int(number or 1))
        elif command == "K":
            rows[row] = ""
        elif command == "m":
            continue  # colours
        elif cr:
            continue  # every line is erased and written from its start
        elif lf:
            row += 1
            if row == len(rows):
                rows.append("")
        else:
            rows[row] += chars
    return [line for line in rows if line]


def test_tty_progress_rewrites_one_line_per_resource_in_place() -> None:
    out = FakeTty()
    progress = Progress(out)
    progress("Network p_default", "Creating")
    progress("Network p_default", "Created")
    progress("Container p-db-1", "Creating")
    progress("Container p-web-1", "Creating")
    first = screen(out.getvalue())
    assert first[0] == "[+] Running 1/3"
    assert first[1] == " ✔ Network p_default  Created"
    assert first[2].endswith(" Container p-db-1   Creating") and "✔" not in first[2]
    progress("Container p-db-1", "Created")
    progress("Container p-web-1", "Created")
    progress("Container p-db-1", "Started")
    progress("Container p-web-1", "Started")
    assert screen(out.getvalue()) == [
        "[+] Running 3/3",
        " ✔ Network p_default  Created",
        " ✔ Container p-db-1   Started",
        " ✔ Container p-web-1  Started",
    ]


def test_plain_progress_prints_each_step_as_composes_plain_mode() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress("Container p-db-1", "Stopping")
    progress("Container p-db-1", "Stopped")
    assert out.getvalue() == " Container p-db-1  Stopping\n Container p-db-1  Stopped\n"
