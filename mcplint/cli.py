"""The command line. Heavy modules are imported inside the commands that need them:
`mcplint check` runs on every commit and must start fast."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from mcplint import __version__
from mcplint.errors import ExitCode
from mcplint.profiles import PROFILES

FORMAT_CHOICES = ("text", "json", "sarif", "github", "gitlab", "junit", "markdown")


def _version_text() -> str:
    from mcplint.policy.catalog import CATALOG_VERSION

    return f"mcplint {__version__} (rule catalog {CATALOG_VERSION}, manifest format 1)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text())
        ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version, rule catalog and manifest format.")
def main() -> None:
    """Lint and verify MCP connector deployments (mcp-connector.yaml).

    \b
    Examples:
      mcplint check                      # every manifest below this folder
      mcplint check deploy/mcp-connector.yaml --format json
      mcplint verify mcp-connector.yaml  # also check the live endpoints
      mcplint probe https://mcp.acme.com/mcp
      mcplint explain MCP407
    """


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by check, verify and probe (README.md, "Commands")."""
    options = [
        click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_CHOICES),
                     help="Output format; repeat it, each paired in order with --output, for "
                          "several reports in one run."),
        click.option("--output", "outputs", multiple=True, type=click.Path(dir_okay=False),
                     help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--profile", type=click.Choice(PROFILES),
                     help="Rule set: claude-ai (default), spec, local. Overrides the manifest's "
                          "and the config's."),
        click.option("--select", multiple=True, metavar="CODES",
                     help="Comma list of codes, names or prefixes (MCP3) to run instead of the "
                          "profile's rules."),
        click.option("--ignore", multiple=True, metavar="CODES",
                     help="Comma list of codes, names or prefixes to leave out."),
        click.option("--policies", "policy_dirs", multiple=True,
                     type=click.Path(file_okay=False), help="Also load the policy files in DIR."),
        click.option("--fail-on", type=click.Choice(("error", "warning", "info", "never")),
                     help="Least severity that makes the exit code 1 (default: error)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False, exists=True),
                     help="Use this config file instead of looking for one."),
        click.option("--no-config", is_flag=True, help="Ignore configuration files."),
        click.option("--root", type=click.Path(file_okay=False, exists=True),
                     help="Name files in reports relative to this folder (default: "
                          "$GITHUB_WORKSPACE or $CI_PROJECT_DIR, else the repository's top "
                          "level, else the current folder)."),
        click.option("--force-exclude", is_flag=True,
                     help="Apply the config's excludes to paths named on the command line too."),
        click.option("--baseline", type=click.Path(dir_okay=False),
                     help="Hide findings recorded in this baseline file."),
        click.option("--write-baseline", type=click.Path(dir_okay=False),
                     help="Record the current findings in this baseline file."),
        click.option("--no-suppress", is_flag=True,
                     help="Ignore inline suppressions and the baseline (audit run)."),
        click.option("--color", type=click.Choice(("auto", "always", "never")), default="auto",
                     show_default=True, help="Colour the text output (NO_COLOR is honoured)."),
        click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary."),
        click.option("-v", "--verbose", count=True,
                     help="More output: documentation links, suppressed findings, tracebacks."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


ALLOW_NO_MANIFEST = click.option(
    "--allow-no-manifest", is_flag=True,
    help="Exit 0 with one line when no manifest is found (the pre-commit hooks pass it, for "
         "repositories that have none yet); without it, that is exit 2.")


def _fail(message: str) -> None:
    from mcplint.escape import visible  # messages quote manifests: one visible line

    click.echo(f"mcplint: error: {visible(message)}", err=True)
    sys.exit(ExitCode.USAGE)


def run_guarded(verbose: int, action: Callable[[], int]) -> None:
    """The single exit point: findings -> 0/1, usage problems -> 2 with one line."""
    from mcplint.errors import PolicyError, UsageError

    try:
        code = action()
    except (UsageError, PolicyError) as error:
        _fail(str(error))
    except KeyboardInterrupt:
        click.echo("mcplint: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # `mcplint check | head`: the reader left, which is no error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush of stdout cannot fail
        sys.exit(ExitCode.FINDINGS)
    except Exception as error:  # an internal error: one line, the traceback only with -v
        if verbose:
            raise
        from mcplint.escape import visible

        click.echo(f"mcplint: internal error: {type(error).__name__}: {visible(error)} "
                   "(run with -v for the traceback)", err=True)
        sys.exit(ExitCode.USAGE)
    sys.exit(code)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@report_options
@click.option("--stdin-filename", metavar="PATH",
              help="With '-' as the path: the name of the manifest read from standard input "
                   "(findings carry it; references and the config are found from its folder).")
@ALLOW_NO_MANIFEST
def check(paths: tuple[str, ...], **options: Any) -> None:
    """Check manifests statically (never touches the network).

    With no PATHS, checks every mcp-connector.yaml/.yml and *.mcp-connector.yaml/.yml below
    the current folder, skipping hidden folders and what .gitignore ignores. With '-', reads
    one manifest from standard input (an editor's buffer), named by --stdin-filename.

    \b
    Examples:
      mcplint check
      mcplint check deploy/mcp-connector.yaml --format json --output report.json
      mcplint check --select MCP3 --fail-on warning
      mcplint check --profile local dev.mcp-connector.yaml
      mcplint check - --stdin-filename deploy/mcp-connector.yaml < buffer.yaml
    """
    from mcplint.commands import run as runner

    run_guarded(options["verbose"], lambda: runner.run("check", paths, options))


def live_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options of the commands that touch the network (README.md, "Commands")."""
    options = [
        click.option("--timeout", type=float, metavar="SECONDS",
                     help="Cut one request after this long (default 30; calls slower than the "
                          "hosted client's 10 s budget that still answer are MCP605)."),
        click.option("--deadline", type=float, metavar="SECONDS",
                     help="Bound the whole verification of one manifest (default 120)."),
        click.option("--nameserver", multiple=True, metavar="HOST[:PORT]",
                     help="Resolver treated as public DNS; repeatable (default: 1.1.1.1, "
                          "8.8.8.8, 9.9.9.9)."),
        click.option("--system-resolver", metavar="HOST[:PORT]|none",
                     help="The inside resolver compared with the public ones (split-horizon, "
                          "MCP205); default: this machine's."),
        click.option("--connect-to", multiple=True, metavar="HOST:PORT:ADDR:PORT",
                     help="Connect there instead, keeping Host, SNI and certificate checks for "
                          "HOST (curl's meaning); repeatable."),
        click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
                     help="Extra trusted CA certificates (private PKI, tests)."),
        click.option("--user-agent", metavar="STRING",
                     help="User-Agent to send, to reproduce bot-management rules."),
        click.option("--probe-registration", is_flag=True,
                     help="Also try a DCR registration (creates a client on the server)."),
        click.option("--send-credentials", is_flag=True,
                     help="With auth.type static-headers, send the declared headers (values "
                          "from the environment variables --credential-env names)."),
        click.option("--credential-env", multiple=True, metavar="VAR",
                     help="An environment variable auth.headers may name as ${VAR} with "
                          "--send-credentials; repeatable. No other variable is read."),
        click.option("--record", type=click.Path(dir_okay=False),
                     help="Write every request and response (secrets redacted) to FILE as JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@report_options
@live_options
@ALLOW_NO_MANIFEST
def verify(paths: tuple[str, ...], **options: Any) -> None:
    """Check manifests statically, then against their live endpoints.

    Behaves like the hosted client: resolves every host with public DNS, connects only to
    public addresses (or to an explicit --connect-to target), never follows redirects, and
    sends no credentials unless asked. Exit code 3 when no resolver answered at all.

    \b
    Examples:
      mcplint verify mcp-connector.yaml
      mcplint verify --format json --record evidence.json
      mcplint verify --connect-to mcp.acme.com:443:10.1.2.3:443 staging.mcp-connector.yaml
    """
    from mcplint.commands.verify import verify as run_verify

    run_guarded(options["verbose"], lambda: run_verify(paths, options))


@main.command()
@click.argument("url")
@report_options
@live_options
def probe(url: str, **options: Any) -> None:
    """Diagnose an MCP URL without a manifest: the troubleshooting checklist, in order.

    Each step (DNS, reachability, redirects, edge blocks, discovery, the authorization
    server, registration, PKCE, issuer, audience, refresh errors) is shown as passed or
    failed, with the finding, its evidence and the error a claude.ai user would see.

    \b
    Examples:
      mcplint probe https://mcp.acme.com/mcp
      mcplint probe https://mcp.acme.com/mcp --format json
    """
    from mcplint.commands.verify import probe as run_probe

    run_guarded(options["verbose"], lambda: run_probe(url, options))


@main.command()
@click.option("-o", "--output", default="mcp-connector.yaml", show_default=True,
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the manifest; '-' prints it. An existing file is kept.")
@click.option("--from", "from_url", metavar="URL",
              help="Fill the manifest in from live discovery of this MCP URL (issuer, "
                   "registration methods, scopes, hosts).")
@click.option("--profile", type=click.Choice(PROFILES),
              help="With --from: the profile whose address rules apply while probing.")
@live_options
def init(output: str, from_url: str | None, **options: Any) -> None:
    """Write a commented starter manifest, to fill in where it says TODO.

    It passes `mcplint check` as written; each field says what it means. With --from, the
    values come from the live deployment (the network options are verify's).

    \b
    Examples:
      mcplint init
      mcplint init -o deploy/docs.mcp-connector.yaml
      mcplint init --from https://mcp.acme.com/mcp
      mcplint init -o - | less
    """
    from mcplint.commands import init as starter

    if from_url is None:
        run_guarded(0, lambda: starter.write(output))
        return
    from mcplint.commands.init import init_from

    options.setdefault("quiet", True)
    run_guarded(0, lambda: init_from(from_url, output, {**options, "no_config": False}))


@main.command()
@click.option("--format", "format_name", type=click.Choice(("text", "json")), default="text",
              show_default=True)
def rules(format_name: str) -> None:
    """List the rule catalog: code, name, severity, modes, symptom, what is new or changed in
    this catalog version, profiles.

    \b
    Examples:
      mcplint rules
      mcplint rules --format json | jq '.[] | select(.severity == "error") | .code'
    """
    import json

    from mcplint.findings import SYMPTOMS
    from mcplint.policy.catalog import CATALOG_VERSION, load_builtin

    catalog = load_builtin()
    ordered = sorted(catalog.rules.values(), key=lambda r: r.code)
    if format_name == "json":
        rows = [{"code": r.code, "name": r.name, "severity": r.severity, "modes": list(r.modes),
                 "profiles": list(r.profiles), "symptom": r.symptom,
                 "symptom_text": SYMPTOMS[r.symptom], "summary": r.summary,
                 "added": r.added, "changed": r.changed, "catalog_change": r.news or None}
                for r in ordered]
        click.echo(json.dumps(rows, indent=2))
        return
    column = f"v{CATALOG_VERSION}"  # new or changed in this catalog version
    click.echo(f"{'code':<7} {'name':<34} {'severity':<8} {'mode':<4} {'symptom':<7} "
               f"{column:<7} profiles")
    for r in ordered:
        click.echo(f"{r.code:<7} {r.name:<34} {r.severity:<8} {r.mode_label:<4} "
                   f"{r.symptom:<7} {r.news:<7} {','.join(r.profiles)}")


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Print one rule's documentation: what, why, fix, examples, sources.

    \b
    Examples:
      mcplint explain MCP407
      mcplint explain prm-resource-mismatch
    """
    from mcplint.commands import explain as explain_module
    from mcplint.policy.catalog import load_builtin

    catalog = load_builtin()
    found = catalog.lookup(rule)
    if found is None:
        _fail(f"'{rule}' is not a rule code or name{catalog.suggest(rule)} "
              "(see `mcplint rules`)")
    assert found is not None
    click.echo(explain_module.render(catalog, found))


@main.command()
@click.argument("which", type=click.Choice(("manifest", "report", "config", "policy")),
                default="manifest")
def schema(which: str) -> None:
    """Print a JSON Schema: the manifest's, the JSON report's, the config file's, a policy's.

    \b
    Examples:
      mcplint schema manifest > mcp-connector.schema.json
      mcplint schema report
    """
    from mcplint.resources import schema_text

    names = {"manifest": "mcp-connector.schema.json", "report": "report.schema.json",
             "config": "config.schema.json", "policy": "policy.schema.json"}
    click.echo(schema_text(names[which]), nl=False)


def entry() -> NoReturn:
    """The console script (and `python -m mcplint.cli`). Once the output is flushed the
    process ends without tearing the interpreter down: freeing every module and object
    would cost a tenth of a `check`, and nothing of mcplint's is left to run at exit
    (reports are closed when written, the probing process is reaped)."""
    # A run is short and builds almost no reference cycles: collecting the youngest
    # generation every 700 new containers (the default) costs ~5% of start-up for nothing.
    gc.set_threshold(100_000, 10, 10)
    try:
        main(prog_name="mcplint")
        code: object = ExitCode.OK
    except SystemExit as exit_:
        code = exit_.code
    if code is None:
        code = ExitCode.OK
    elif not isinstance(code, int):  # sys.exit("message"), as click may do
        print(code, file=sys.stderr)
        code = ExitCode.FINDINGS
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader left, or the stream is closed
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
