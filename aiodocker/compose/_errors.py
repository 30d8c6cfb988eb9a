"""The one exception a compose project that cannot be loaded raises."""

from __future__ import annotations


class ComposeError(ValueError):
    """A compose project is invalid or cannot be read.

    The message names the file (when one is to blame), the path inside it in
    Compose's notation (``services.web.ports[1]``) and the problem.

    Attributes:
        file: the compose file (or env file) at fault, or None.
        path: the dotted path of the faulty value, or "" for the whole file.
        problem: what is wrong, in words.
    """

    def __init__(self, problem: str, *, file: str | None = None, path: str = "") -> None:
        self.file = file
        self.path = path
        self.problem = problem
        where = ""
        if file:
            where = f"{file}: "
        if path:
            where += f"{path}: "
        super().__init__(f"{where}{problem}")
