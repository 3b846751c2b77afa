"""mkdocs hook: the command and Python references, generated from the code at each build.

``reference/commands.md`` is every ``iopsim`` command's own ``--help`` (click builds it from
the code, so the page can never disagree with the program); ``reference/python.md`` is every
function of ``import iopsim`` with its signature and docstring. Neither is written to docs/:
they are added to the build's files."""

from __future__ import annotations

import inspect

import click
from mkdocs.structure.files import File


def _commands() -> str:
    from simulation.cli import main

    out = [
        "# Every command",
        "",
        "Generated from the program at each build: each command's own `--help`.",
        "",
    ]
    context = click.Context(main, info_name="iopsim")
    out += ["## iopsim", "", "```text", main.get_help(context), "```", ""]
    for name in sorted(main.list_commands(context)):
        command = main.get_command(context, name)
        sub = click.Context(command, info_name=f"iopsim {name}", parent=context)
        out += [f"## iopsim {name}", "", "```text", command.get_help(sub), "```", ""]
    return "\n".join(out)


def _python() -> str:
    import iopsim

    out = [
        "# The Python API",
        "",
        "Generated from the code at each build: `import iopsim`, each function's signature "
        "and docstring. The examples in the module's docstring run as a test.",
        "",
        "```python",
        inspect.cleandoc(iopsim.__doc__ or ""),
        "```",
        "",
    ]
    for name in iopsim.__all__:
        item = getattr(iopsim, name)
        if inspect.isclass(item):
            continue
        signature = str(inspect.signature(item))
        out += [
            f"## `iopsim.{name}`",
            "",
            "```python",
            f"iopsim.{name}{signature}",
            "```",
            "",
            inspect.cleandoc(item.__doc__ or ""),
            "",
        ]
    return "\n".join(out)


def on_files(files, config):
    for path, text in (("reference/commands.md", _commands()), ("reference/python.md", _python())):
        files.append(File.generated(config, path, content=text))
    return files
